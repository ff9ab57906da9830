package kafkatest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// The scenarios below are the ones every Kafka client's package in
// e2e/integration runs against the in-process broker; each package
// supplies only what its client does, and the assertions live here once.

// RunFirstErrorCases runs [FirstErrorCases] against an in-process broker
// that expects the audience "kafka" and has the topic "orders". For each
// row, client does what an application does first with the row's source
// (addrs are the broker's) and passes every error it gets to check, which
// requires an error, one that came before ctx (a generous deadline) ended,
// carrying the row's cause.
func RunFirstErrorCases(t *testing.T, client func(t *testing.T, ctx context.Context, addrs []string, src oauthbearer.TokenSource, check func(error))) {
	t.Helper()
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	for _, tc := range FirstErrorCases(iss) {
		t.Run(tc.Name, func(t *testing.T) {
			// A generous deadline: the error must come from the adapter,
			// not from this context ending.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			client(t, ctx, broker.Addrs(), tc.Source(t), func(err error) {
				t.Helper()
				require.Error(t, err)
				assert.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
				tc.Check(t, err)
			})
		})
	}
}

// SharedToken is an in-process broker that expects "kafka" and has the
// topic "orders", and a source (a cache over a [MintingSource], with
// Confluent's two extensions) that every connection of a client under
// test shares.
type SharedToken struct {
	Broker *oauthbearertest.Broker
	// Raw is the cached source: what reached the "identity provider".
	Raw *MintingSource
	// Source is what the client under test takes its tokens from.
	Source oauthbearer.TokenSource
	// Extensions are the SASL extensions Source adds.
	Extensions map[string]string
}

// NewSharedToken starts a [SharedToken] with numBrokers brokers (0: one);
// everything is closed when t ends.
func NewSharedToken(t testing.TB, numBrokers int) *SharedToken {
	t.Helper()
	iss := idptest.NewIssuer(t, nil)
	s := &SharedToken{
		Broker: oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
			Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}, NumBrokers: numBrokers,
		}),
		Raw:        &MintingSource{Issuer: iss, TTL: time.Hour},
		Extensions: map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-XyZ"},
	}
	cache, err := oauthbearer.NewCache(s.Raw, &oauthbearer.CacheOptions{Name: "test issuer"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	s.Source, err = oauthbearer.WithExtensions(cache, s.Extensions)
	require.NoError(t, err)
	return s
}

// Check asserts that the broker saw at least minAuths authentications
// (what, names them), every one accepted, of "workload-1", with the newest
// token, Source's extensions and no authorization identity, and that all
// connections shared one token fetch.
func (s *SharedToken) Check(t *testing.T, minAuths int, what string) {
	t.Helper()
	auths := s.Broker.Authentications()
	require.GreaterOrEqual(t, len(auths), max(minAuths, 1), what)
	for _, a := range auths {
		require.True(t, a.Accepted, "%s: %s", a.Reason, a.Detail)
		assert.Equal(t, "workload-1", a.Principal)
		assert.Equal(t, s.Raw.LastJTI(), a.Claims["jti"], "the broker saw exactly the cached token")
		assert.Equal(t, s.Extensions, a.Extensions)
		assert.Empty(t, a.AuthorizationID)
	}
	assert.EqualValues(t, 1, s.Raw.Fetches(), "%d connections shared one token", s.Broker.Connections())
	t.Logf("%d connections, %d authentications, %d token fetches", s.Broker.Connections(), len(auths), s.Raw.Fetches())
}

// Rejecting is an in-process broker that expects "kafka", has the topic
// "t", and refuses every token with Confluent's JWT_PROCESSING_FAILED
// while Reject is set (it starts set), and a cache over a
// [MintingSource] for the client under test.
type Rejecting struct {
	Broker *oauthbearertest.Broker
	Raw    *MintingSource
	Cache  *oauthbearer.Cache
	Reject atomic.Bool
}

// NewRejecting starts a [Rejecting]; everything is closed when t ends.
func NewRejecting(t testing.TB) *Rejecting {
	t.Helper()
	iss := idptest.NewIssuer(t, nil)
	r := &Rejecting{Raw: &MintingSource{Issuer: iss, TTL: time.Hour}}
	r.Reject.Store(true)
	r.Broker = oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"t"},
		Verdict: func(oauthbearertest.Authentication) *oauthbearertest.Rejection {
			if r.Reject.Load() {
				return &oauthbearertest.Rejection{Status: "JWT_PROCESSING_FAILED"}
			}
			return nil
		},
	})
	var err error
	r.Cache, err = oauthbearer.NewCache(r.Raw, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Cache.Close() })
	return r
}

// CheckRejected asserts that err, the client's error while Reject is set,
// is an actionable *oauthbearer.RejectedError quoting the broker's status
// and its usual cause, and returns it.
func (r *Rejecting) CheckRejected(t *testing.T, err error) *oauthbearer.RejectedError {
	t.Helper()
	require.Error(t, err)
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "got %v", err)
	assert.Equal(t, "JWT_PROCESSING_FAILED", rej.Status)
	assert.Contains(t, err.Error(), `status "JWT_PROCESSING_FAILED"`)
	assert.Contains(t, err.Error(), "accessTokenAcceptedVersion")
	return rej
}

// CheckReplaced asserts that, after Reject was cleared and the client
// connected again, the rejected token had been invalidated: Raw was
// asked for a fresh one after fetchesAtRejection, and the broker's last
// authentication accepted the newest token.
func (r *Rejecting) CheckReplaced(t *testing.T, fetchesAtRejection int64) {
	t.Helper()
	assert.Greater(t, r.Raw.Fetches(), fetchesAtRejection, "the rejected token was invalidated and a fresh one fetched")
	last := r.Broker.Authentications()
	require.NotEmpty(t, last)
	assert.True(t, last[len(last)-1].Accepted)
	assert.Equal(t, r.Raw.LastJTI(), last[len(last)-1].Claims["jti"])
}

// ExpiredToken starts an in-process broker that expects "kafka" and
// allows no clock skew, and returns it with a source whose token expired
// a minute ago but whose Expiry claims an hour, so that the broker's
// check is what fails. check asserts that the client's error is the
// broker's invalid_token rejection with its hint, for the expiry.
func ExpiredToken(t testing.TB) (broker *oauthbearertest.Broker, src oauthbearer.TokenSource, check func(t *testing.T, err error)) {
	t.Helper()
	iss := idptest.NewIssuer(t, nil)
	broker = oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", ClockSkew: -1})
	src = oauthbearer.StaticTokenSource(oauthbearer.Token{
		Value: iss.Mint("w", "kafka", -time.Minute, nil), Expiry: time.Now().Add(time.Hour),
	})
	return broker, src, func(t *testing.T, err error) {
		t.Helper()
		var rej *oauthbearer.RejectedError
		require.True(t, errors.As(err, &rej), "got %v", err)
		assert.Equal(t, "invalid_token", rej.Status)
		assert.Contains(t, err.Error(), "expected.audience")
		require.NotEmpty(t, broker.Authentications())
		assert.Equal(t, string(jwtverify.Expired), broker.Authentications()[0].Reason)
	}
}
