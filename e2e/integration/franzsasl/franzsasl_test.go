package franzsasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFranzGoProducesAndConsumesWithCachedToken(t *testing.T) {
	s := kafkatest.NewSharedToken(t, 2)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Broker.Addrs()...),
		kgo.SASL(must(franzsasl.Mechanism(s.Source, &franzsasl.Options{FetchTimeout: 5 * time.Second}))),
		kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	require.NoError(t, err)
	defer cl.Close()

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
	s.Check(t, 1, "the client authenticated")
}

func TestFranzGoRejectionIsActionableAndInvalidatesToken(t *testing.T) {
	r := kafkatest.NewRejecting(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.Broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(r.Cache, nil))),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	require.NoError(t, err)
	defer cl.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	r.CheckRejected(t, err)
	assert.NotContains(t, err.Error(), "unexpected data")
	fetchesAfterRejection := r.Raw.Fetches()

	r.Reject.Store(false)
	require.NoError(t, cl.Ping(ctx))
	r.CheckReplaced(t, fetchesAfterRejection)
}

func TestFranzGoExpiredTokenRejectedByBroker(t *testing.T) {
	broker, src, check := kafkatest.ExpiredToken(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))), kgo.RequestRetries(0))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	check(t, cl.Ping(ctx))
}

func TestFranzGoBoundsTokenFetch(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
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
