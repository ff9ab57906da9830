package kafkatest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// Minter signs tokens: an *oauthbearertest.Issuer or an *emu.Issuer.
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

// NewFakeBroker starts the public bench's in-process broker
// ([oauthbearertest.NewBroker]) and closes it when t's test ends.
func NewFakeBroker(t testing.TB, opts *oauthbearertest.BrokerOptions) *oauthbearertest.Broker {
	t.Helper()
	b := oauthbearertest.NewBroker(opts)
	t.Cleanup(b.Close)
	return b
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
