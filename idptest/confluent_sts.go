package idptest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// Wire constants of Confluent Cloud's STS token exchange (RFC 8693).
const (
	// confluentSTSPath is where Confluent Cloud serves token exchange.
	confluentSTSPath = "/sts/v1/oauth2/token"

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
	// ExpectedAudience, if set, must be among the subject token's "aud".
	ExpectedAudience string
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
	// Lifetime is the lifetime of issued tokens (exp - iat). Zero means
	// the default, 900s (Confluent's); a negative value issues tokens
	// already expired by that much. A request's expires_in overrides it.
	Lifetime time.Duration
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
	// TokenURL is the full token-exchange URL, for the client's endpoint
	// option.
	TokenURL string
	// Signer is the issuer of the Confluent access tokens
	// (ConfluentSTSOptions.Signer, or one the STS started and closes,
	// whose "iss" is "Confluent"); verify them against its JWKS.
	Signer *Issuer

	pools    map[string]*confluentSTSProvider
	lifetime time.Duration
}

type confluentSTSProvider struct {
	cfg      ConfluentIdentityProvider
	verifier *jwtverify.Verifier
	id       string // the provider's resource ID, op-<n>
}

// confluentEmuOrg is the organization resource ID in issued tokens.
const confluentEmuOrg = "00000000-0000-4000-8000-00000000c0f1"

// NewConfluentSTS starts a ConfluentSTS closed when t's test ends. It
// calls t.Fatalf when opts has no Providers, a provider without Issuer or
// Pools, or a pool listed twice.
func NewConfluentSTS(t TB, opts *ConfluentSTSOptions) *ConfluentSTS {
	t.Helper()
	return newEmulator(t, opts, startConfluentSTS)
}

func startConfluentSTS(o ConfluentSTSOptions) (*ConfluentSTS, error) {
	if len(o.Providers) == 0 {
		return nil, errors.New("confluent sts: ConfluentSTSOptions.Providers is empty; register at least one identity provider with its pools")
	}
	o.Lifetime = tokenLifetime(o.Lifetime, 900*time.Second)
	s := &ConfluentSTS{pools: map[string]*confluentSTSProvider{}, lifetime: o.Lifetime}
	for i, p := range o.Providers {
		if p.Issuer == nil {
			return nil, fmt.Errorf("confluent sts: Providers[%d].Issuer is nil; set the issuer whose tokens the pools trust", i)
		}
		if len(p.Pools) == 0 {
			return nil, fmt.Errorf("confluent sts: Providers[%d].Pools is empty; list the identity pools (pool-...) of this provider", i)
		}
		prov := &confluentSTSProvider{cfg: p, verifier: jwtverify.New(p.Issuer.JWKSURL, p.Issuer.Client()), id: fmt.Sprintf("op-%d", i+1)}
		for _, id := range p.Pools {
			if _, dup := s.pools[id]; dup {
				return nil, fmt.Errorf("confluent sts: identity pool %q is listed twice; a pool belongs to one provider", id)
			}
			s.pools[id] = prov
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(confluentSTSPath, s.serveToken)
	srv, signer, err := startWithSigner(mux, serverConfig{format: formatOAuth, tls: o.TLS}, o.Signer, IssuerOptions{IssuerURL: "Confluent"})
	if err != nil {
		return nil, err
	}
	s.Server, s.Signer = srv, signer
	s.TokenURL = srv.URL + confluentSTSPath
	return s, nil
}

func (s *ConfluentSTS) serveToken(w http.ResponseWriter, r *http.Request) {
	if !parseTokenForm(w, r) {
		return
	}
	f := r.PostForm
	for _, k := range []string{"grant_type", "subject_token", "identity_pool_id", "subject_token_type", "requested_token_type"} {
		if len(f[k]) > 1 {
			noStoreError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %s is repeated", k))
			return
		}
		if f.Get(k) == "" {
			noStoreError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("missing required parameter %s", k))
			return
		}
	}
	pool := f.Get("identity_pool_id")
	note(w, func(q *Request) { q.IdentityPoolID, q.Assertion = pool, f.Get("subject_token") })
	if g := f.Get("grant_type"); g != confluentGrantTokenExchange {
		noStoreError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use %s", g, confluentGrantTokenExchange))
		return
	}
	if t := f.Get("subject_token_type"); t != confluentTokenTypeJWT {
		noStoreError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("subject_token_type %q is not supported; use %s", t, confluentTokenTypeJWT))
		return
	}
	if t := f.Get("requested_token_type"); t != confluentTokenTypeAccess {
		noStoreError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("requested_token_type %q is not supported; use %s", t, confluentTokenTypeAccess))
		return
	}
	ttl := s.lifetime
	if v := f.Get("expires_in"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 86400 {
			noStoreError(w, http.StatusBadRequest, "invalid_request", "expires_in must be a whole number of seconds from 60 to 86400")
			return
		}
		ttl = time.Duration(n) * time.Second
	}
	prov, ok := s.pools[pool]
	if !ok {
		noStoreError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("identity pool %q not found", pool))
		return
	}
	claims, sub, err := prov.verifier.Verify(f.Get("subject_token"), jwtverify.Expect{
		Issuer: prov.cfg.Issuer.IssuerURL, Audience: prov.cfg.ExpectedAudience,
	})
	if err != nil {
		var ve *jwtverify.Error
		if errors.As(err, &ve) && (ve.Reason == jwtverify.BadIssuer || ve.Reason == jwtverify.UnknownKid || ve.Reason == jwtverify.BadSignature) {
			// The token is not from the provider that owns the pool.
			// Confluent's API reference documents 400, 429 and 500 as the
			// exchange's errors, no 401.
			noStoreError(w, http.StatusBadRequest, "invalid_grant", "subject token is not valid for identity pool "+pool+": "+string(ve.Reason))
			return
		}
		noStoreError(w, http.StatusBadRequest, "invalid_grant", "subject token is invalid: "+err.Error())
		return
	}
	if prov.cfg.Filter != nil && !prov.cfg.Filter(claims) {
		noStoreError(w, http.StatusBadRequest, "invalid_grant", "the subject token's claims do not match the filter of identity pool "+pool)
		return
	}
	now := time.Now()
	tok := s.Signer.Sign(map[string]any{
		"iss": "Confluent", "sub": pool, "aud": "CONTROL_PLANE",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": randomB64URL(16),
		"userResourceId": pool, "scope": "https://api.confluent.cloud/",
		// As in Confluent's published token: the organization, the
		// identity provider and the external subject.
		"organizationId": 0, "orgResourceId": confluentEmuOrg, "userId": 0,
		"externalIdentityId": "crn://confluent.cloud/organization=" + confluentEmuOrg + "/identity-provider=" + prov.id + "/identity=" + sub,
		"may_act":            map[string]any{"principals": []string{pool}},
	})
	note(w, func(q *Request) { q.Subject, q.Token = sub, tok })
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
