//go:build cgo

package confluentkafka_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// mintingSource is a raw source that mints a fresh Issuer token per call
// and remembers each token's jti, so tests can match what the broker saw.
type mintingSource struct {
	iss     *oauthbearertest.Issuer
	aud     string
	ttl     time.Duration
	fetches atomic.Int64
	mu      sync.Mutex
	jtis    []string
}

func (s *mintingSource) Token(context.Context) (oauthbearer.Token, error) {
	n := s.fetches.Add(1)
	jti := fmt.Sprintf("jti-%d-%d", time.Now().UnixNano(), n)
	s.mu.Lock()
	s.jtis = append(s.jtis, jti)
	s.mu.Unlock()
	aud := s.aud
	if aud == "" {
		aud = "kafka"
	}
	// A JWT's exp is in whole seconds; Expiry must not be later than it,
	// or a short-lived token expires at the broker before its holder
	// thinks it does.
	exp := time.Unix(time.Now().Add(s.ttl).Unix(), 0)
	return oauthbearer.Token{
		Value:     s.iss.Mint("workload-1", aud, s.ttl, oauthbearertest.Claims{"jti": jti, "exp": exp.Unix()}),
		Expiry:    exp,
		Principal: "workload-1",
	}, nil
}

func (s *mintingSource) lastJTI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jtis[len(s.jtis)-1]
}

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
