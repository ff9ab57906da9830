//go:build cgo

package confluentkafka_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// config is a librdkafka configuration for OAUTHBEARER over plaintext
// against addrs, plus extra.
func config(addrs []string, extra kafka.ConfigMap) *kafka.ConfigMap {
	cm := kafka.ConfigMap{
		"bootstrap.servers":                  strings.Join(addrs, ","),
		"security.protocol":                  "SASL_PLAINTEXT",
		"sasl.mechanism":                     "OAUTHBEARER",
		"broker.address.family":              "v4",
		"topic.metadata.refresh.interval.ms": 1000,
		"enable.metrics.push":                false, // kfake has no telemetry; quiets a log line
	}
	for k, v := range extra {
		cm[k] = v
	}
	return &cm
}

// produce sends one message and waits for its delivery report on a
// channel of its own, so the producer's Events channel is never read and
// Poll is never called.
func produce(ctx context.Context, p *kafka.Producer, topic string, value []byte) error {
	dr := make(chan kafka.Event, 1)
	if err := p.Produce(&kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
		Value:          value,
	}, dr); err != nil {
		return err
	}
	select {
	case ev := <-dr:
		m := ev.(*kafka.Message)
		return m.TopicPartition.Error
	case <-ctx.Done():
		return ctx.Err()
	}
}

// produceForLifetimes is an application that never reads a producer's
// events: a producer on addrs with a Refresher over src produces to
// topic, one message every pace, for three and a half token lifetimes
// (ttl); every message must be delivered within msgTimeoutMS. It returns
// how many messages it sent and when it started.
func produceForLifetimes(ctx context.Context, t *testing.T, addrs []string, src oauthbearer.TokenSource, topic string, ttl, pace time.Duration, msgTimeoutMS int) (sent int, start time.Time) {
	t.Helper()
	p, err := kafka.NewProducer(config(addrs, kafka.ConfigMap{"linger.ms": 5, "message.timeout.ms": msgTimeoutMS}))
	require.NoError(t, err)
	defer p.Close()
	r, err := confluentkafka.NewRefresher(p, src, nil)
	require.NoError(t, err)
	defer r.Close()

	start = time.Now()
	for time.Since(start) < 3*ttl+ttl/2 {
		require.NoError(t, produce(ctx, p, topic, []byte("m")), "message %d after %v", sent, time.Since(start))
		sent++
		select { // pace the messages; not a timing assertion
		case <-time.After(pace):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	return sent, start
}
