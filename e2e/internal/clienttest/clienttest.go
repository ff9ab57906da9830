// Package clienttest runs produce-and-consume round trips through real
// Kafka client libraries with a token source, for the token sources' tests
// against the in-process broker (oauthbearertest.Broker).
package clienttest

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// RoundTrip produces values to partition 0 of topic through the brokers
// at addrs and consumes them back, failing t unless exactly values come
// back in order.
type RoundTrip func(t testing.TB, addrs []string, topic string, src oauthbearer.TokenSource, values ...string)

// Clients are the round trips by client library name.
func Clients() map[string]RoundTrip {
	return map[string]RoundTrip{"franz-go": Franz, "sarama": Sarama}
}

// timeout bounds a round trip: a rejected token must fail the test, not
// hang it.
const timeout = 20 * time.Second

// Franz is the round trip with franz-go and this module's franzsasl.
func Franz(t testing.TB, addrs []string, topic string, src oauthbearer.TokenSource, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addrs...),
		kgo.SASL(must(franzsasl.Mechanism(src, nil))),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	require.NoError(t, err)
	defer cl.Close()
	for _, v := range values {
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr())
	}
	var got []string
	for len(got) < len(values) {
		fs := cl.PollFetches(ctx)
		require.NoError(t, fs.Err0(), "consumed only %v", got)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	assert.Equal(t, values, got)
}

// Sarama is the round trip with IBM/sarama and this module's saramasasl.
func Sarama(t testing.TB, addrs []string, topic string, src oauthbearer.TokenSource, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	provider := must(saramasasl.NewTokenProvider(src, &saramasasl.Options{FetchTimeout: 10 * time.Second}))
	cfg := sarama.NewConfig()
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = provider
	cfg.Producer.Return.Successes = true
	client, err := sarama.NewClient(addrs, cfg)
	require.NoError(t, provider.Explain(err))
	defer client.Close()

	producer, err := sarama.NewSyncProducerFromClient(client)
	require.NoError(t, err)
	for _, v := range values {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(v)})
		require.NoError(t, err)
	}
	require.NoError(t, producer.Close())

	consumer, err := sarama.NewConsumerFromClient(client)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	for len(got) < len(values) {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case err := <-pc.Errors():
			require.NoError(t, err)
		case <-ctx.Done():
			t.Fatalf("consumed only %v", got)
		}
	}
	assert.Equal(t, values, got)
}

// must returns v, panicking on err: for constructors that fail only on a
// nil token source, which these tests never pass.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
