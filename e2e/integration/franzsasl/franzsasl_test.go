package franzsasl_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFranzGoProducesAndConsumesWithCachedToken(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}, NumBrokers: 2,
	})
	raw := &kafkatest.MintingSource{Issuer: iss, TTL: time.Hour}
	cache, err := oauthbearer.NewCache(raw, &oauthbearer.CacheOptions{Name: "test issuer"})
	require.NoError(t, err)
	src, err := oauthbearer.WithExtensions(cache, map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-XyZ"})
	require.NoError(t, err)

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker.Addrs()...),
		kgo.SASL(must(franzsasl.Mechanism(src, &franzsasl.Options{FetchTimeout: 5 * time.Second}))),
		kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	require.NoError(t, err)
	defer cl.Close()
	defer cache.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i := range 5 {
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte{byte('0' + i)}}).FirstErr())
	}
	var got []string
	for len(got) < 5 {
		fs := cl.PollFetches(ctx)
		require.NoError(t, fs.Err0())
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got)

	auths := broker.Authentications()
	require.NotEmpty(t, auths)
	for _, a := range auths {
		require.True(t, a.Accepted, "%s: %s", a.Reason, a.Detail)
		assert.Equal(t, "workload-1", a.Principal)
		assert.Equal(t, raw.LastJTI(), a.Claims["jti"], "the broker saw exactly the cached token")
		assert.Equal(t, map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-XyZ"}, a.Extensions)
	}
	assert.EqualValues(t, 1, raw.Fetches(), "%d connections shared one token", broker.Connections())
	t.Logf("%d connections, %d authentications, %d token fetches", broker.Connections(), len(auths), raw.Fetches())
}

func TestFranzGoRejectionIsActionableAndInvalidatesToken(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	var reject atomic.Bool
	reject.Store(true)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"t"},
		Verdict: func(oauthbearertest.Authentication) *oauthbearertest.Rejection {
			if reject.Load() {
				return &oauthbearertest.Rejection{Status: "JWT_PROCESSING_FAILED"}
			}
			return nil
		},
	})
	raw := &kafkatest.MintingSource{Issuer: iss, TTL: time.Hour}
	cache, err := oauthbearer.NewCache(raw, nil)
	require.NoError(t, err)
	defer cache.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(cache, nil))),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	require.NoError(t, err)
	defer cl.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	require.Error(t, err)
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "got %v", err)
	assert.Equal(t, "JWT_PROCESSING_FAILED", rej.Status)
	assert.Contains(t, err.Error(), `status "JWT_PROCESSING_FAILED"`)
	assert.Contains(t, err.Error(), "accessTokenAcceptedVersion")
	assert.NotContains(t, err.Error(), "unexpected data")
	fetchesAfterRejection := raw.Fetches()

	reject.Store(false)
	require.NoError(t, cl.Ping(ctx))
	assert.Greater(t, raw.Fetches(), fetchesAfterRejection, "the rejected token was invalidated and a fresh one fetched")
	last := broker.Authentications()
	assert.Equal(t, raw.LastJTI(), last[len(last)-1].Claims["jti"])
}

func TestFranzGoExpiredTokenRejectedByBroker(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", ClockSkew: -1})
	// A source whose token is already expired at the broker but that
	// claims a valid expiry: the broker's check is what fails.
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{
		Value: iss.Mint("w", "kafka", -time.Minute, nil), Expiry: time.Now().Add(time.Hour),
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))), kgo.RequestRetries(0))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "got %v", err)
	assert.Equal(t, "invalid_token", rej.Status)
	assert.Contains(t, err.Error(), "expected.audience")
	assert.Equal(t, string("expired"), broker.Authentications()[0].Reason)
}

func TestFranzGoBoundsTokenFetch(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	hung := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		<-ctx.Done() // franz-go's own context has no deadline; the adapter's must end this
		return oauthbearer.Token{}, oauthbearer.Transient(ctx.Err(), 0)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...),
		kgo.SASL(must(franzsasl.Mechanism(hung, &franzsasl.Options{FetchTimeout: 50 * time.Millisecond}))), kgo.RetryTimeout(200*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, ctx.Err(), "the adapter's timeout ended the fetch, not the test's")
}

// must returns v, panicking on err: for constructors that fail only on a
// nil token source, which these tests never pass.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNilSourceIsAnError: a nil source fails at construction, naming the
// function. Fails before the change: the constructor returned a value
// that panicked (nil interface call) on the first connection.
