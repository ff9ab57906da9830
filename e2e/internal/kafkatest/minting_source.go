package kafkatest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// Minter signs tokens, as an *idptest.Issuer does.
type Minter interface {
	Mint(sub, aud string, ttl time.Duration, extra map[string]any) string
}

// MintingSource is an [oauthbearer.TokenSource] that mints a fresh token
// from Issuer on every call, the way an identity provider without a cache
// answers. Put it under an [oauthbearer.Cache] to test an adapter or a
// client: Fetches counts what reached the "identity provider", and
// LastJTI names the newest token, to match against what a broker saw.
// Set the fields before the first call.
type MintingSource struct {
	// Issuer signs the tokens; required.
	Issuer Minter
	// Subject is the "sub" claim and the token's Principal. Default
	// "workload-1".
	Subject string
	// Audience is the "aud" claim. Default "kafka".
	Audience string
	// TTL is each token's lifetime. Default 1h.
	TTL time.Duration

	fetches atomic.Int64
	mu      sync.Mutex
	lastJTI string
}

// Token mints a token with a unique "jti". Its Expiry equals the JWT's
// exp, which has whole seconds: a later Expiry would let a short-lived
// token expire at the broker before its holder thinks it does.
func (s *MintingSource) Token(context.Context) (oauthbearer.Token, error) {
	n := s.fetches.Add(1)
	sub, aud, ttl := s.Subject, s.Audience, s.TTL
	if sub == "" {
		sub = "workload-1"
	}
	if aud == "" {
		aud = "kafka"
	}
	if ttl == 0 {
		ttl = time.Hour
	}
	jti := fmt.Sprintf("jti-%d-%d", time.Now().UnixNano(), n)
	exp := time.Unix(time.Now().Add(ttl).Unix(), 0)
	v := s.Issuer.Mint(sub, aud, ttl, map[string]any{"jti": jti, "exp": exp.Unix()})
	s.mu.Lock()
	s.lastJTI = jti
	s.mu.Unlock()
	return oauthbearer.Token{Value: v, Expiry: exp, Principal: sub}, nil
}

// Fetches reports how many tokens were minted.
func (s *MintingSource) Fetches() int64 { return s.fetches.Load() }

// LastJTI returns the "jti" of the newest token, or "" before the first.
func (s *MintingSource) LastJTI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastJTI
}

// Rejections counts the authentications b refused.
func Rejections(b *oauthbearertest.Broker) int {
	n := 0
	for _, a := range b.Authentications() {
		if !a.Accepted {
			n++
		}
	}
	return n
}

// Impostors returns two issuers whose tokens iss's JWKS does not verify,
// for iss's claims (sign them with Sign, or Mint with the "iss" claim set
// to iss.IssuerURL): forger holds another key under the kid iss signs with
// now (a forged signature that only a broker verifying signatures
// refuses), stranger a key with a kid iss never published, "unknown-kid".
func Impostors(t testing.TB, iss *idptest.Issuer) (forger, stranger *idptest.Issuer) {
	t.Helper()
	return idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: KeyID(t, iss.Mint("x", "y", time.Hour, nil))}),
		idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: "unknown-kid"})
}

// KeyID returns the "kid" in token's header: the key an issuer signs
// with now.
func KeyID(t testing.TB, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	kid, _ := parsed.Header["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}
