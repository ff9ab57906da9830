package idptest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// Wire constants of Confluent Cloud's STS token exchange (RFC 8693).
const (
	// ConfluentSTSPath is where Confluent Cloud serves token exchange.
	ConfluentSTSPath = "/sts/v1/oauth2/token"

	confluentGrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	confluentTokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	confluentTokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// ConfluentIdentityProvider is an external identity provider registered
// with the [ConfluentSTS], with the identity pools that trust it. A subject
// token is accepted for a pool only if it verifies against the JWKS of the
// provider that owns the pool, as in Confluent Cloud where every pool
// belongs to exactly one provider.
type ConfluentIdentityProvider struct {
	// Issuer signs the subject tokens; required. Tokens are verified
	// against its JWKS, and their "iss" must be its IssuerURL.
	Issuer *Issuer
	// Audience, if set, must be among the subject token's "aud".
	Audience string
	// Pools are the identity pool IDs (pool-...) owned by this provider;
	// at least one.
	Pools []string
	// Filter, if set, is the pool's identity filter: a subject token whose
	// claims it rejects gets 401, like a failing CEL filter in Confluent
	// Cloud.
	Filter func(claims map[string]any) bool
}

// ConfluentSTSOptions configures a [ConfluentSTS].
type ConfluentSTSOptions struct {
	// Providers are the registered identity providers; at least one.
	Providers []ConfluentIdentityProvider
	// Signer signs the Confluent access tokens the STS returns. Default:
	// an Issuer started (and closed) by the STS whose "iss" is
	// "Confluent", as in real Confluent tokens.
	Signer *Issuer
	// TTL is the lifetime of issued tokens when the request has no
	// expires_in. Default 900s, Confluent's default.
	TTL time.Duration
	// TLS serves HTTPS (use [Server.Client] to trust it). Default plain
	// HTTP.
	TLS bool
}

// ConfluentSTS emulates Confluent Cloud's Security Token Service:
// POST /sts/v1/oauth2/token exchanges an external identity provider's JWT
// (subject_token) for a Confluent-issued access token for one identity
// pool. It is strict: every required form field must be present with the
// exact value Confluent accepts, the subject token must verify against the
// pool's provider, and errors are OAuth 2.0 JSON objects ("error",
// "error_description") with 400 or 401.
type ConfluentSTS struct {
	*Server
	signer    *Issuer
	ownSigner bool
	pools     map[string]*confluentSTSProvider
	ttl       time.Duration

	mu        sync.Mutex
	exchanges []ConfluentExchange
}

type confluentSTSProvider struct {
	cfg      ConfluentIdentityProvider
	verifier *jwtverify.Verifier
	id       string // the provider's resource ID, op-<n>
}

// confluentEmuOrg is the organization resource ID in issued tokens.
const confluentEmuOrg = "00000000-0000-4000-8000-00000000c0f1"

// ConfluentExchange records one token-exchange request the STS answered.
type ConfluentExchange struct {
	// IdentityPoolID is the requested pool.
	IdentityPoolID string
	// Subject is the verified subject token's "sub" ("" if rejected).
	Subject string
	// Status is the HTTP status answered.
	Status int
	// Error is the OAuth error code answered, "" on success.
	Error string
}

// NewConfluentSTS starts a ConfluentSTS closed when t's test ends.
func NewConfluentSTS(t TB, opts *ConfluentSTSOptions) *ConfluentSTS {
	t.Helper()
	s, err := StartConfluentSTS(opts)
	if err != nil {
		t.Fatalf("emu: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartConfluentSTS starts a ConfluentSTS; the caller must Close it.
func StartConfluentSTS(opts *ConfluentSTSOptions) (*ConfluentSTS, error) {
	var o ConfluentSTSOptions
	if opts != nil {
		o = *opts
	}
	if len(o.Providers) == 0 {
		return nil, errors.New("confluent sts: ConfluentSTSOptions.Providers is empty; register at least one identity provider with its pools")
	}
	if o.TTL < 0 {
		return nil, fmt.Errorf("confluent sts: ConfluentSTSOptions.TTL is %s; use a positive duration or 0 for 900s", o.TTL)
	}
	if o.TTL == 0 {
		o.TTL = 900 * time.Second
	}
	s := &ConfluentSTS{pools: map[string]*confluentSTSProvider{}, ttl: o.TTL, signer: o.Signer}
	for i, p := range o.Providers {
		if p.Issuer == nil {
			return nil, fmt.Errorf("confluent sts: Providers[%d].Issuer is nil; set the issuer whose tokens the pools trust", i)
		}
		if len(p.Pools) == 0 {
			return nil, fmt.Errorf("confluent sts: Providers[%d].Pools is empty; list the identity pools (pool-...) of this provider", i)
		}
		prov := &confluentSTSProvider{cfg: p, verifier: jwtverify.New(p.Issuer.JWKSURL(), p.Issuer.Client()), id: fmt.Sprintf("op-%d", i+1)}
		for _, id := range p.Pools {
			if _, dup := s.pools[id]; dup {
				return nil, fmt.Errorf("confluent sts: identity pool %q is listed twice; a pool belongs to one provider", id)
			}
			s.pools[id] = prov
		}
	}
	if s.signer == nil {
		sig, err := StartIssuer(&IssuerOptions{IssuerURL: "Confluent"})
		if err != nil {
			return nil, err
		}
		s.signer, s.ownSigner = sig, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc(ConfluentSTSPath, s.serveToken)
	tlsOn := o.TLS
	srv, err := startServer("confluent sts", mux, &tlsOn)
	if err != nil {
		if s.ownSigner {
			s.signer.Close()
		}
		return nil, err
	}
	s.Server = srv
	return s, nil
}

// Close stops the STS and the signer it started.
func (s *ConfluentSTS) Close() {
	s.Server.Close()
	if s.ownSigner {
		s.signer.Close()
	}
}

// TokenURL is the full token-exchange URL, for the client's endpoint
// option.
func (s *ConfluentSTS) TokenURL() string { return s.URL + ConfluentSTSPath }

// Signer is the issuer of the Confluent access tokens; verify them
// against its JWKS.
func (s *ConfluentSTS) Signer() *Issuer { return s.signer }

// Exchanges returns the requests answered so far (faults injected by
// [Server.FailNext] are not recorded).
func (s *ConfluentSTS) Exchanges() []ConfluentExchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exchanges)
}

func (s *ConfluentSTS) record(e ConfluentExchange) {
	s.mu.Lock()
	s.exchanges = append(s.exchanges, e)
	s.mu.Unlock()
}

func (s *ConfluentSTS) fail(w http.ResponseWriter, ex ConfluentExchange, status int, code, desc string) {
	ex.Status, ex.Error, ex.Subject = status, code, ""
	s.record(ex)
	oauthNoStore(w)
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *ConfluentSTS) serveToken(w http.ResponseWriter, r *http.Request) {
	var ex ConfluentExchange
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, ex, http.StatusMethodNotAllowed, "invalid_request", "the token endpoint accepts POST only")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		s.fail(w, ex, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, ex, http.StatusBadRequest, "invalid_request", "the request body is not a valid form")
		return
	}
	f := r.PostForm
	for _, k := range []string{"grant_type", "subject_token", "identity_pool_id", "subject_token_type", "requested_token_type"} {
		if len(f[k]) > 1 {
			s.fail(w, ex, http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %s is repeated", k))
			return
		}
		if f.Get(k) == "" {
			s.fail(w, ex, http.StatusBadRequest, "invalid_request", fmt.Sprintf("missing required parameter %s", k))
			return
		}
	}
	ex.IdentityPoolID = f.Get("identity_pool_id")
	if g := f.Get("grant_type"); g != confluentGrantTokenExchange {
		s.fail(w, ex, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use %s", g, confluentGrantTokenExchange))
		return
	}
	if t := f.Get("subject_token_type"); t != confluentTokenTypeJWT {
		s.fail(w, ex, http.StatusBadRequest, "invalid_request", fmt.Sprintf("subject_token_type %q is not supported; use %s", t, confluentTokenTypeJWT))
		return
	}
	if t := f.Get("requested_token_type"); t != confluentTokenTypeAccess {
		s.fail(w, ex, http.StatusBadRequest, "invalid_request", fmt.Sprintf("requested_token_type %q is not supported; use %s", t, confluentTokenTypeAccess))
		return
	}
	ttl := s.ttl
	if v := f.Get("expires_in"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 86400 {
			s.fail(w, ex, http.StatusBadRequest, "invalid_request", "expires_in must be a whole number of seconds from 60 to 86400")
			return
		}
		ttl = time.Duration(n) * time.Second
	}
	prov, ok := s.pools[ex.IdentityPoolID]
	if !ok {
		s.fail(w, ex, http.StatusBadRequest, "invalid_request", fmt.Sprintf("identity pool %q not found", ex.IdentityPoolID))
		return
	}
	claims, sub, err := prov.verifier.Verify(f.Get("subject_token"), jwtverify.Expect{
		Issuer: prov.cfg.Issuer.IssuerURL(), Audience: prov.cfg.Audience,
	})
	if err != nil {
		var ve *jwtverify.Error
		if errors.As(err, &ve) && (ve.Reason == jwtverify.BadIssuer || ve.Reason == jwtverify.UnknownKid || ve.Reason == jwtverify.BadSignature) {
			// The token is not from the provider that owns the pool.
			// Confluent's API reference documents 400, 429 and 500 as the
			// exchange's errors, no 401.
			s.fail(w, ex, http.StatusBadRequest, "invalid_grant", "subject token is not valid for identity pool "+ex.IdentityPoolID+": "+string(ve.Reason))
			return
		}
		s.fail(w, ex, http.StatusBadRequest, "invalid_grant", "subject token is invalid: "+err.Error())
		return
	}
	if prov.cfg.Filter != nil && !prov.cfg.Filter(claims) {
		s.fail(w, ex, http.StatusBadRequest, "invalid_grant", "the subject token's claims do not match the filter of identity pool "+ex.IdentityPoolID)
		return
	}
	now := time.Now()
	tok := s.signer.Sign(Claims{
		"iss": "Confluent", "sub": ex.IdentityPoolID, "aud": "CONTROL_PLANE",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": randomID(),
		"userResourceId": ex.IdentityPoolID, "scope": "https://api.confluent.cloud/",
		// As in Confluent's published token: the organization, the
		// identity provider and the external subject.
		"organizationId": 0, "orgResourceId": confluentEmuOrg, "userId": 0,
		"externalIdentityId": "crn://confluent.cloud/organization=" + confluentEmuOrg + "/identity-provider=" + prov.id + "/identity=" + sub,
		"may_act":            map[string]any{"principals": []string{ex.IdentityPoolID}},
	})
	ex.Subject, ex.Status = sub, http.StatusOK
	s.record(ex)
	oauthNoStore(w)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":      tok,
		"issued_token_type": confluentTokenTypeAccess,
		"token_type":        "Bearer",
		"expires_in":        int(ttl / time.Second),
	})
}

// confluentHasPool reports whether the comma-separated list holds id.
func confluentHasPool(list, id string) bool {
	for p := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(p) == id {
			return true
		}
	}
	return false
}
