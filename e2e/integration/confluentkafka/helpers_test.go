//go:build cgo

package confluentkafka_test

import (
	"context"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
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
