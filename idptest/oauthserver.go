package idptest

import (
	"cmp"
	"crypto"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// oauthTokenPath is where an [OAuthServer] serves its token endpoint.
const oauthTokenPath = "/oauth2/token"

// OAuthClient is a client registered with a [OAuthServer].
// Set Secret, PublicKey, or both.
type OAuthClient struct {
	// Secret authenticates the client with client_secret_basic or
	// client_secret_post.
	Secret string
	// PublicKey (*rsa.PublicKey or *ecdsa.PublicKey) verifies the client's
	// private_key_jwt assertions (RFC 7523).
	PublicKey crypto.PublicKey
	// Scopes lists the scopes the client may request; empty allows any.
	Scopes []string
	// CertSubject authenticates the client with RFC 8705
	// tls_client_auth: the client certificate of the TLS connection,
	// verified against OAuthServerOptions.ClientCAs, must have
	// this subject (as x509's Name.String writes it), and the request
	// carries client_id and no other client authentication, or Basic
	// credentials whose password is ignored (Kafka's handler always
	// sends a secret; Keycloak's X509 client authenticator ignores it).
	CertSubject string
	// Subjects lists the "sub" values that RFC 7523 jwt-bearer
	// assertions issued by this client (iss = the client ID, signed with
	// PublicKey) may name; empty allows only the client ID itself.
	Subjects []string
}

// OAuthServerOptions configures a [OAuthServer].
type OAuthServerOptions struct {
	// Signer signs the access tokens; required. Brokers verify them
	// against its JWKS.
	Signer *Issuer
	// Clients maps client IDs to their credentials; at least one.
	Clients map[string]OAuthClient
	// Audience is the "aud" of issued tokens. Default "kafka".
	Audience string
	// Lifetime is the lifetime of issued tokens (exp - iat). Zero means
	// the default, 1h; a negative value issues tokens already expired by
	// that much.
	Lifetime time.Duration
	// TLS serves HTTPS (use [Server.Client] or [Server.CertificatePEM]
	// to trust it). Default plain HTTP.
	TLS bool
	// ClientCAs verify client certificates (RFC 8705): with it the TLS
	// server asks for a certificate (optional at the TLS layer; a client
	// registered with CertSubject needs one), and tokens issued to a
	// client authenticated by certificate are certificate-bound: they
	// carry cnf.x5t#S256, the certificate's SHA-256 thumbprint.
	ClientCAs *x509.CertPool
}

// OAuthServer is a strict OAuth 2.0 token endpoint for the
// client credentials grant (RFC 6749 section 4.4), the grant Kafka's own
// OAuthBearerLoginCallbackHandler uses. It authenticates clients with
// exactly one of client_secret_basic, client_secret_post or
// private_key_jwt (RFC 7523: signature, iss = sub = client_id, aud = the
// token URL, exp, single-use jti), and answers with RFC 6749 JSON, errors
// included. It also serves the RFC 7523 jwt-bearer grant
// (grant_type urn:ietf:params:oauth:grant-type:jwt-bearer), whose
// assertions registered clients sign with their PublicKey (see
// OAuthClient.Subjects).
type OAuthServer struct {
	*Server
	// TokenURL is the token endpoint's URL; private_key_jwt assertions
	// must name it as their audience.
	TokenURL string

	signer   *Issuer
	clients  map[string]OAuthClient
	audience string
	lifetime time.Duration

	mu   sync.Mutex
	jtis map[string]bool
}

// NewOAuthServer starts a server closed when t's test ends. It calls
// t.Fatalf when opts has no Signer or no Clients.
func NewOAuthServer(t TB, opts *OAuthServerOptions) *OAuthServer {
	t.Helper()
	return newEmulator(t, opts, startOAuthServer)
}

func startOAuthServer(o OAuthServerOptions) (*OAuthServer, error) {
	if o.Signer == nil {
		return nil, errors.New("oauth server: OAuthServerOptions.Signer is nil; set the issuer that signs access tokens")
	}
	if len(o.Clients) == 0 {
		return nil, errors.New("oauth server: OAuthServerOptions.Clients is empty; register at least one client")
	}
	if o.Audience == "" {
		o.Audience = "kafka"
	}
	o.Lifetime = tokenLifetime(o.Lifetime, time.Hour)
	s := &OAuthServer{signer: o.Signer, clients: o.Clients, audience: o.Audience, lifetime: o.Lifetime, jtis: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc(oauthTokenPath, s.serveToken)
	c := serverConfig{format: formatOAuth, tls: o.TLS}
	if o.ClientCAs != nil {
		c.tlsConf = &tls.Config{ClientCAs: o.ClientCAs, ClientAuth: tls.VerifyClientCertIfGiven}
	}
	srv, err := startServer(mux, c)
	if err != nil {
		return nil, err
	}
	s.Server = srv
	s.TokenURL = srv.URL + oauthTokenPath
	return s, nil
}

// oauthNoStore sets the headers RFC 6749 section 5.1 requires on every
// token endpoint reply: Cache-Control: no-store and Pragma: no-cache.
func oauthNoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// parseTokenForm parses the form of a token request, which must be a
// POST of application/x-www-form-urlencoded up to 64 KiB, or answers the
// OAuth error and returns false.
func parseTokenForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		noStoreError(w, http.StatusMethodNotAllowed, "invalid_request", "the token endpoint accepts POST only")
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		noStoreError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		noStoreError(w, http.StatusBadRequest, "invalid_request", "the request body is not a valid form")
		return false
	}
	return true
}

// noStoreError writes an OAuth error with the headers of oauthNoStore.
func noStoreError(w http.ResponseWriter, status int, code, desc string) {
	oauthNoStore(w)
	oauthError(w, status, code, desc)
}

func (s *OAuthServer) serveToken(w http.ResponseWriter, r *http.Request) {
	if !parseTokenForm(w, r) {
		return
	}
	if len(r.URL.Query()) > 0 {
		noStoreError(w, http.StatusBadRequest, "invalid_request", "parameters must be sent in the body, not the URL")
		return
	}
	f := r.PostForm
	note(w, func(q *Request) {
		q.ClientID, q.Scope = f.Get("client_id"), f.Get("scope")
		q.Assertion = cmp.Or(f.Get("client_assertion"), f.Get("assertion"))
	})
	for k, v := range f {
		if len(v) > 1 {
			noStoreError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" is repeated")
			return
		}
	}
	if f.Get("grant_type") == jwtBearerGrant {
		s.serveJWTBearer(w, r)
		return
	}
	if g := f.Get("grant_type"); g != "client_credentials" {
		if g == "" {
			noStoreError(w, http.StatusBadRequest, "invalid_request", "missing grant_type")
		} else {
			noStoreError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+g+" is not supported")
		}
		return
	}
	clientID, status, code, desc := s.authenticate(r)
	if code != "" {
		if status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
		noStoreError(w, status, code, desc)
		return
	}
	scope := f.Get("scope")
	if !s.scopeAllowed(w, clientID, scope) {
		return
	}
	s.grantBound(w, clientID, clientID, scope, boundCert(r, s.clients[clientID]))
}

// scopeAllowed reports whether every scope in scope is in client's
// Scopes (an empty list allows any), or answers invalid_scope naming the
// first that is not and returns false.
func (s *OAuthServer) scopeAllowed(w http.ResponseWriter, client, scope string) bool {
	allowed := s.clients[client].Scopes
	if len(allowed) == 0 {
		return true
	}
	for sc := range strings.FieldsSeq(scope) {
		if !slices.Contains(allowed, sc) {
			noStoreError(w, http.StatusBadRequest, "invalid_scope", "scope "+sc+" is not allowed for this client")
			return false
		}
	}
	return true
}

// grant issues a token for sub, requested by client, and records it.
func (s *OAuthServer) grant(w http.ResponseWriter, client, sub, scope string) {
	s.grantBound(w, client, sub, scope, nil)
}

// grantBound is grant with the certificate the token is bound to (nil:
// none).
func (s *OAuthServer) grantBound(w http.ResponseWriter, client, sub, scope string, cert *x509.Certificate) {
	claims := map[string]any{"azp": client}
	if cert != nil {
		claims["cnf"] = map[string]string{"x5t#S256": thumbprint(cert)}
	}
	if scope != "" {
		claims["scope"] = scope
	}
	tok := s.signer.Mint(sub, s.audience, s.lifetime, claims)
	note(w, func(q *Request) { q.ClientID, q.Subject, q.Token = client, sub, tok })
	oauthNoStore(w)
	reply := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(s.lifetime / time.Second)}
	if scope != "" {
		reply["scope"] = scope
	}
	writeJSON(w, http.StatusOK, reply)
}

// authenticate returns the authenticated client ID, or an OAuth error.
func (s *OAuthServer) authenticate(r *http.Request) (id string, status int, code, desc string) {
	f := r.PostForm
	basicUser, basicPass, hasBasic := r.BasicAuth()
	hasPost := f.Has("client_secret")
	hasJWT := f.Has("client_assertion") || f.Has("client_assertion_type")
	n := 0
	for _, b := range []bool{hasBasic, hasPost, hasJWT} {
		if b {
			n++
		}
	}
	switch {
	case n == 0 && s.clients[f.Get("client_id")].CertSubject != "":
		return s.checkCert(r, f.Get("client_id"))
	case hasBasic && n == 1 && s.clients[basicUser].CertSubject != "":
		// Kafka's handler always sends a client secret; a server that
		// authenticates the client by certificate (Keycloak's X509
		// client authenticator) takes the client ID from it and ignores
		// the secret.
		return s.checkCert(r, basicUser)
	case n == 0:
		return "", http.StatusUnauthorized, "invalid_client", "no client authentication; use client_secret_basic, client_secret_post, private_key_jwt or tls_client_auth"
	case n > 1:
		return "", http.StatusBadRequest, "invalid_request", "more than one client authentication method (RFC 6749 section 2.3)"
	case hasBasic:
		u, err1 := url.QueryUnescape(basicUser)
		p, err2 := url.QueryUnescape(basicPass)
		if err1 != nil || err2 != nil {
			return "", http.StatusUnauthorized, "invalid_client", "the Basic credentials are not form-urlencoded"
		}
		if fid := f.Get("client_id"); fid != "" && fid != u {
			return "", http.StatusBadRequest, "invalid_request", "client_id in the body differs from the Basic credentials"
		}
		return s.checkSecret(u, p)
	case hasPost:
		return s.checkSecret(f.Get("client_id"), f.Get("client_secret"))
	default:
		return s.checkAssertion(f.Get("client_id"), f.Get("client_assertion_type"), f.Get("client_assertion"))
	}
}

func (s *OAuthServer) checkSecret(id, secret string) (string, int, string, string) {
	c, ok := s.clients[id]
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return "", http.StatusUnauthorized, "invalid_client", "client authentication failed"
	}
	return id, 0, "", ""
}

func (s *OAuthServer) checkAssertion(id, typ, assertion string) (string, int, string, string) {
	if typ != clientAssertionType {
		return "", http.StatusBadRequest, "invalid_request", "client_assertion_type must be " + clientAssertionType
	}
	if assertion == "" {
		return "", http.StatusBadRequest, "invalid_request", "missing client_assertion"
	}
	iss, _, problem := s.verifyRFC7523(assertion, asClientAuth, id)
	if problem != "" {
		return "", http.StatusUnauthorized, "invalid_client", "client assertion " + problem
	}
	return iss, 0, "", ""
}
