package saramasasl_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// sarama's metrics library starts one process-wide ticker goroutine that it
// never stops; it is sarama's, not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"))
}

func saramaConfig(p sarama.AccessTokenProvider) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = p
	cfg.Producer.Return.Successes = true
	cfg.Metadata.Retry.Max = 0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func TestSaramaProducesAndConsumesWithCachedToken(t *testing.T) {
	st := kafkatest.NewSharedToken(t, 0)
	cfg := saramaConfig(must(saramasasl.NewTokenProvider(st.Source, &saramasasl.Options{FetchTimeout: 5 * time.Second})))
	client, err := sarama.NewClient(st.Broker.Addrs(), cfg)
	require.NoError(t, err)
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	require.NoError(t, err)
	for _, v := range []string{"a", "b", "c"} {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder(v)})
		require.NoError(t, err)
	}
	require.NoError(t, producer.Close())

	consumer, err := sarama.NewConsumerFromClient(client)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("orders", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	timeout := time.After(15 * time.Second)
	for len(got) < 3 {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case <-timeout:
			t.Fatalf("consumed only %v", got)
		}
	}
	assert.Equal(t, []string{"a", "b", "c"}, got)

	st.Check(t, 1, "the client authenticated")
}

func TestSaramaRejectionExplained(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	// Wrong audience: the broker's validator refuses it.
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("w", "not-kafka", time.Hour, nil), Expiry: time.Now().Add(time.Hour)})
	_, err := sarama.NewClient(broker.Addrs(), saramaConfig(must(saramasasl.NewTokenProvider(src, nil))))
	require.Error(t, err)
	explained := saramasasl.Explain(err)
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(explained, &rej), "got %v", explained)
	assert.Equal(t, "invalid_token", rej.Status)
	assert.Contains(t, explained.Error(), "expected.audience")
	assert.Equal(t, string("bad_audience"), broker.Authentications()[0].Reason)
	assert.Nil(t, saramasasl.Explain(nil))
	other := errors.New("dial tcp: refused")
	assert.Same(t, other, saramasasl.Explain(other))
}

func TestSaramaProviderBoundsFetchAndValidatesExtensions(t *testing.T) {
	hung := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		<-ctx.Done()
		return oauthbearer.Token{}, ctx.Err()
	})
	_, err := must(saramasasl.NewTokenProvider(hung, &saramasasl.Options{FetchTimeout: 20 * time.Millisecond})).Token()
	require.ErrorIs(t, err, context.DeadlineExceeded)

	bad := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t", Expiry: time.Now().Add(time.Hour), Extensions: map[string]string{"auth": "x"}})
	_, err = must(saramasasl.NewTokenProvider(bad, nil)).Token()
	require.ErrorContains(t, err, `"auth"`)
}

func TestSaramaProviderExplainInvalidatesRejectedToken(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	// The first token has the wrong audience, every later one is good.
	var fetches atomic.Int64
	raw := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		aud := "kafka"
		if fetches.Add(1) == 1 {
			aud = "not-kafka"
		}
		return oauthbearer.Token{Value: iss.Mint("w", aud, time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
	})
	cache, err := oauthbearer.NewCache(raw, nil)
	require.NoError(t, err)
	defer cache.Close()
	p := must(saramasasl.NewTokenProvider(cache, nil))

	_, err = sarama.NewClient(broker.Addrs(), saramaConfig(p))
	var rej *oauthbearer.RejectedError
	require.ErrorAs(t, p.Explain(err), &rej)
	assert.EqualValues(t, 1, fetches.Load())

	client, err := sarama.NewClient(broker.Addrs(), saramaConfig(p))
	require.NoError(t, err, "the rejected token was presented again")
	require.NoError(t, client.Close())
	assert.EqualValues(t, 2, fetches.Load())

	other := errors.New("dial tcp: refused")
	assert.Same(t, other, p.Explain(other))
	assert.EqualValues(t, 2, fetches.Load(), "only a rejection invalidates")
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
