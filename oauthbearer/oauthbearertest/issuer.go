package oauthbearertest

import (
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/emu"
)

// IssuerOptions configures an [Issuer]. The zero value is valid.
type IssuerOptions struct {
	// Algorithm is "RS256" (default), "ES256" or "ES384".
	Algorithm string
	// IssuerURL overrides the "iss" claim and the discovery document's
	// issuer. Default: the server's URL.
	IssuerURL string
}

// Issuer is a local OpenID Connect token issuer: it signs JWTs with a key
// that has a "kid", and serves its JWKS at /.well-known/jwks.json and its
// discovery document at /.well-known/openid-configuration, over plain HTTP.
// It stands in for a Kubernetes service-account issuer (the assertion
// behind Azure workload identity and Confluent token exchange) and signs
// the tokens of the other emulators when given to them.
type Issuer struct {
	*Server
	e *emu.Issuer
}

// NewIssuer starts an Issuer on 127.0.0.1; the caller must Close it. It
// panics if the options are invalid or it cannot listen. opts may be nil.
func NewIssuer(opts *IssuerOptions) *Issuer {
	var o emu.IssuerOptions
	if opts != nil {
		o = emu.IssuerOptions(*opts)
	}
	e := must(emu.StartIssuer(&o))
	return &Issuer{Server: newServer(e.Server, e.Close), e: e}
}

// IssuerURL is the "iss" claim of every token.
func (i *Issuer) IssuerURL() string { return i.e.IssuerURL() }

// JWKSURL is where the public keys are served.
func (i *Issuer) JWKSURL() string { return i.e.JWKSURL() }

// Mint signs a token with the claims iss, sub, aud, iat, nbf, exp (now +
// ttl; a negative ttl makes an expired token) and a random jti, plus
// extra, which overrides them. A nil value in extra removes that claim
// (for example {"exp": nil} for a token without expiry).
func (i *Issuer) Mint(sub, aud string, ttl time.Duration, extra map[string]any) string {
	return i.e.Mint(sub, aud, ttl, extra)
}

// Sign signs exactly claims with the current key, putting its kid in the
// header. Values must be JSON-encodable.
func (i *Issuer) Sign(claims map[string]any) string { return i.e.Sign(claims) }

// Rotate makes a new key the signing key. The old keys stay in the JWKS
// unless dropOld is true, the way issuers publish the next key before
// they use it.
func (i *Issuer) Rotate(dropOld bool) {
	if err := i.e.Rotate(dropOld); err != nil {
		panic("oauthbearertest: " + err.Error())
	}
}
