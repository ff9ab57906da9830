package idptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The fixed addresses of the Google Compute Engine metadata server,
// which the GCE emulator's [Server.Client] routes to the emulator.
const (
	gceMetadataIP       = "169.254.169.254"
	gceMetadataHostname = "metadata.google.internal"
)

// Paths of the metadata server that the emulator serves.
const (
	gceTokenPath    = "/computeMetadata/v1/instance/service-accounts/default/token"
	gceIdentityPath = "/computeMetadata/v1/instance/service-accounts/default/identity"
	gceEmailPath    = "/computeMetadata/v1/instance/service-accounts/default/email"
)

// gceTokenURIPath is the path of the emulator's stand-in for Google's
// OAuth2 token endpoint (https://oauth2.googleapis.com/token), which a
// service-account key's token_uri names.
const gceTokenURIPath = "/token"

// gceCloudPlatformScope is the OAuth scope Google's Managed Kafka clients
// request, and the emulator's default grant.
const gceCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// GCEOptions configures a [GCE] emulator. The zero value is valid: a VM
// with one attached service account holding the cloud-platform scope,
// issuing 1-hour access tokens and ID tokens signed by an issuer of its own.
type GCEOptions struct {
	// Signer signs the ID tokens, standing in for Google's
	// https://accounts.google.com keys; the tokens' iss is its IssuerURL.
	// Default: a new [Issuer] owned (and closed) by the emulator.
	Signer *Issuer
	// Email is the attached service account's email. Default
	// "kafka-client@emu-project.iam.gserviceaccount.com".
	Email string
	// UniqueID is the service account's numeric unique ID, the ID
	// tokens' sub. Default: 21 random digits.
	UniqueID string
	// ProjectID is project/project-id. Default "emu-project".
	ProjectID string
	// Scopes are the scopes the VM's service account was granted; a token
	// request for a scope outside them is refused as on a VM whose access
	// scopes are too narrow. Default: cloud-platform only.
	Scopes []string
	// Lifetime is the lifetime of issued tokens (exp - iat). Zero means
	// the default, 1h; a negative value issues tokens already expired by
	// that much. It applies to access and ID tokens; access tokens report
	// an expires_in one second short (3599 for 1h), as the real server's
	// do.
	Lifetime time.Duration
	// AllowedAudiences, if non-empty, lists the only audiences the
	// identity endpoint signs for; others get 400, standing in for an
	// organisation policy that restricts audiences. Default: any audience.
	AllowedAudiences []string
	// NoServiceAccount emulates a VM without an attached service account:
	// every service-accounts request gets 404.
	NoServiceAccount bool
}

// GCE emulates the Google Compute Engine (and GKE workload identity, and
// Cloud Run) metadata server's service-account endpoints: access tokens at
// .../default/token, Google-signed ID tokens at
// .../default/identity?audience=A[&format=full], the account's email, and
// the project ID. Like the real server it answers 403 to a request
// without "Metadata-Flavor: Google" or with X-Forwarded-For, and puts
// "Metadata-Flavor: Google" on every reply (which is how Google's
// libraries recognise it).
//
// Point Google's Go libraries at it with GCE_METADATA_HOST=<Host>, or
// route requests with [Server.Client].
type GCE struct {
	*Server
	// Email is the attached service account's email.
	Email string
	// UniqueID is the service account's numeric ID, the ID tokens' sub.
	UniqueID string
	// Host is the emulator's host:port, the value for GCE_METADATA_HOST.
	Host string
	// ServiceAccountKeyJSON is a service-account key file for the
	// emulator's service account (type service_account, client_email
	// Email, a fresh RSA key) whose token_uri is the emulator's token
	// endpoint: what GOOGLE_APPLICATION_CREDENTIALS names off Google
	// Cloud. The endpoint accepts the jwt-bearer grant signed with this
	// key and answers with an access token (scope claim) or, for a
	// target_audience claim, an ID token. A credential.
	ServiceAccountKeyJSON []byte
	// Signer is the issuer whose keys sign the ID tokens (GCEOptions.Signer,
	// or one the emulator started and closes); validate them against its
	// JWKSURL and IssuerURL.
	Signer *Issuer

	opts GCEOptions
	key  *rsa.PrivateKey

	mu     sync.Mutex
	tokens map[string]gceAccessToken
}

// gceAccessToken describes an access token the emulator issued.
type gceAccessToken struct {
	email  string
	expiry time.Time
}

// NewGCE starts a GCE metadata server emulator that is closed when t's
// test ends.
func NewGCE(t TB, opts *GCEOptions) *GCE {
	t.Helper()
	return newEmulator(t, opts, startGCE)
}

func startGCE(opts GCEOptions) (*GCE, error) {
	g := &GCE{tokens: map[string]gceAccessToken{}}
	g.opts = opts
	o := &g.opts
	if o.Email == "" {
		o.Email = "kafka-client@emu-project.iam.gserviceaccount.com"
	}
	if o.UniqueID == "" {
		o.UniqueID = randomDigits(21)
	}
	if o.ProjectID == "" {
		o.ProjectID = "emu-project"
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{gceCloudPlatformScope}
	}
	o.Scopes = slices.Clone(o.Scopes)
	o.AllowedAudiences = slices.Clone(o.AllowedAudiences)
	o.Lifetime = tokenLifetime(o.Lifetime, time.Hour)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	g.key = key
	mux := http.NewServeMux()
	mux.HandleFunc("/", g.serve)
	mux.HandleFunc("POST "+gceTokenURIPath, g.serveOAuthToken)
	srv, signer, err := startWithSigner(mux, serverConfig{format: formatGCE, reroute: []string{gceMetadataIP, gceMetadataHostname}}, o.Signer, IssuerOptions{})
	if err != nil {
		return nil, err
	}
	g.Server, g.Signer = srv, signer
	g.Email, g.UniqueID = o.Email, o.UniqueID
	g.Host = strings.TrimPrefix(srv.URL, "http://")
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		srv.Close()
		return nil, err
	}
	g.ServiceAccountKeyJSON, _ = json.Marshal(map[string]string{
		"type": "service_account", "project_id": o.ProjectID, "private_key_id": randomB64URL(40),
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": o.Email, "client_id": o.UniqueID,
		"token_uri": srv.URL + gceTokenURIPath, "universe_domain": "googleapis.com",
	})
	return g, nil
}

// AccessToken looks up an access token the emulator issued, as Google's
// tokeninfo endpoint would: the service account it stands for and when
// it expires; ok is false for a token it never issued.
func (g *GCE) AccessToken(token string) (email string, expiry time.Time, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	info, ok := g.tokens[token]
	return info.email, info.expiry, ok
}

// gceText answers as the metadata server does: text/html for errors,
// application/text for values, always with Metadata-Flavor: Google.
func gceText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/text")
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (g *GCE) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Metadata-Flavor", "Google")
	if r.URL.Path == "/" {
		// Google's libraries probe the root to detect a metadata server.
		gceText(w, http.StatusOK, "computeMetadata/\n")
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		gceText(w, http.StatusForbidden, "Your client does not have permission to get URL from this server. Request contains X-Forwarded-For header.\n")
		return
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		gceText(w, http.StatusForbidden, "Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.\n")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		gceText(w, http.StatusMethodNotAllowed, "Method not allowed\n")
		return
	}
	if g.opts.NoServiceAccount && strings.HasPrefix(r.URL.Path, "/computeMetadata/v1/instance/service-accounts/") {
		gceText(w, http.StatusNotFound, "Not Found\n")
		return
	}
	switch r.URL.Path {
	case gceTokenPath, "/computeMetadata/v1/instance/service-accounts/" + g.opts.Email + "/token":
		g.serveToken(w, r)
	case gceIdentityPath, "/computeMetadata/v1/instance/service-accounts/" + g.opts.Email + "/identity":
		g.serveIdentity(w, r)
	case gceEmailPath, "/computeMetadata/v1/instance/service-accounts/" + g.opts.Email + "/email":
		gceText(w, http.StatusOK, g.opts.Email)
	case "/computeMetadata/v1/project/project-id":
		gceText(w, http.StatusOK, g.opts.ProjectID)
	case "/computeMetadata/v1/universe/universe-domain":
		gceText(w, http.StatusOK, "googleapis.com")
	default:
		gceText(w, http.StatusNotFound, "Not Found\n")
	}
}

func (g *GCE) serveToken(w http.ResponseWriter, r *http.Request) {
	scopes := []string{gceCloudPlatformScope}
	if s := r.URL.Query().Get("scopes"); s != "" {
		scopes = strings.Split(s, ",")
	}
	note(w, func(q *Request) { q.Kind, q.Scope = "access", strings.Join(scopes, ",") })
	for _, s := range scopes {
		if !slices.Contains(g.opts.Scopes, s) {
			// What a VM whose access scopes do not include the requested
			// one gets.
			gceText(w, http.StatusForbidden, fmt.Sprintf("The service account does not have the requested scope %s; grant it the VM's access scopes\n", s))
			return
		}
	}
	g.issueAccessToken(w)
}

// issueAccessToken answers with a new access token, as the metadata
// server and Google's token endpoint do, and keeps it for AccessToken.
func (g *GCE) issueAccessToken(w http.ResponseWriter) {
	tok := "ya29.c." + randomB64URL(120)
	exp := time.Now().Add(g.opts.Lifetime)
	g.mu.Lock()
	g.tokens[tok] = gceAccessToken{email: g.opts.Email, expiry: exp}
	g.mu.Unlock()
	note(w, func(q *Request) { q.Token = tok })
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int64(g.opts.Lifetime/time.Second) - 1,
		"token_type":   "Bearer",
	})
}

func (g *GCE) serveIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aud := q.Get("audience")
	note(w, func(q *Request) { q.Kind, q.Audience = "identity", []string{aud} })
	if aud == "" {
		gceText(w, http.StatusBadRequest, "non-empty audience parameter required\n")
		return
	}
	if len(g.opts.AllowedAudiences) > 0 && !slices.Contains(g.opts.AllowedAudiences, aud) {
		gceText(w, http.StatusBadRequest, fmt.Sprintf("audience %q is not allowed for this service account\n", aud))
		return
	}
	now := time.Now()
	c := map[string]any{
		"iss": g.Signer.IssuerURL, "aud": aud, "azp": g.opts.UniqueID, "sub": g.opts.UniqueID,
		"iat": now.Unix(), "exp": now.Add(g.opts.Lifetime).Unix(),
	}
	if q.Get("format") == "full" {
		c["email"] = g.opts.Email
		c["email_verified"] = true
		c["google"] = map[string]any{"compute_engine": map[string]any{
			"project_id": g.opts.ProjectID, "zone": "emu-zone-a", "instance_name": "emu-instance",
		}}
	}
	tok := g.Signer.Sign(c)
	note(w, func(q *Request) { q.Token = tok })
	gceText(w, http.StatusOK, tok)
}

func randomDigits(n int) string {
	var sb strings.Builder
	for i := range n {
		lo := int64(0)
		if i == 0 {
			lo = 1
		}
		d, _ := rand.Int(rand.Reader, big.NewInt(10-lo))
		sb.WriteByte(byte('0' + lo + d.Int64()))
	}
	return sb.String()
}

// serveOAuthToken plays Google's token endpoint for the jwt-bearer grant
// of a service-account key. Like every token endpoint here it takes a
// form of at most 64 KiB (parseTokenForm), and, like Google's, marks
// every reply no-store.
func (g *GCE) serveOAuthToken(w http.ResponseWriter, r *http.Request) {
	if !parseTokenForm(w, r) {
		return
	}
	oauthNoStore(w)
	if r.PostForm.Get("grant_type") != jwtBearerGrant {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	note(w, func(q *Request) { q.Assertion = r.PostForm.Get("assertion") })
	claims := jwt.MapClaims{}
	// The assertion's aud is the token URI the key file names: this
	// emulator's, or the same endpoint under the https host a client
	// reached it at (a TLS front or proxy, as oauth2.googleapis.com).
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(g.URL+gceTokenURIPath, "https://"+r.Host+gceTokenURIPath), jwt.WithExpirationRequired()).
		ParseWithClaims(r.PostForm.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &g.key.PublicKey, nil })
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if claims["iss"] != g.opts.Email {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid issuer")
		return
	}
	if aud, _ := claims["target_audience"].(string); aud != "" {
		if len(g.opts.AllowedAudiences) > 0 && !slices.Contains(g.opts.AllowedAudiences, aud) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "audience is not allowed")
			return
		}
		now := time.Now()
		tok := g.Signer.Sign(map[string]any{"iss": g.Signer.IssuerURL, "aud": aud, "azp": g.opts.Email, "sub": g.opts.UniqueID,
			"email": g.opts.Email, "email_verified": true, "iat": now.Unix(), "exp": now.Add(g.opts.Lifetime).Unix()})
		note(w, func(q *Request) { q.Kind, q.Audience, q.Token = "identity", []string{aud}, tok })
		writeJSON(w, http.StatusOK, map[string]any{"id_token": tok})
		return
	}
	scope, _ := claims["scope"].(string)
	note(w, func(q *Request) { q.Kind, q.Scope = "access", scope })
	scopes := strings.Fields(scope)
	if len(scopes) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	g.issueAccessToken(w)
}
