package kafkagosasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

// TestKafkaGoFirstErrorCarriesTheCause: with an identity provider that
// cannot be reached, kafka-go's first returned error (a Dialer's, and a
// Writer's) says why, within the adapter's FetchTimeout; a token the
// broker rejects is an *oauthbearer.RejectedError.
//
// Fails before the azure fail-fast and the cache's gave-up message:
// "unreachable IMDS" got "gave up waiting for a token: context deadline
// exceeded", and "silent IdP" the same, naming nothing that runs.
func TestKafkaGoFirstErrorCarriesTheCause(t *testing.T) {
	kafkatest.RunFirstErrorCases(t, func(t *testing.T, ctx context.Context, addrs []string, src oauthbearer.TokenSource, check func(error)) {
		mech := must(kafkagosasl.Mechanism(src, &kafkagosasl.Options{FetchTimeout: 2 * time.Second}))
		d := &kafka.Dialer{SASLMechanism: mech, Timeout: 30 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", addrs[0])
		if conn != nil {
			_ = conn.Close()
		}
		check(err)

		transport := &kafka.Transport{SASL: mech}
		defer transport.CloseIdleConnections()
		w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: "orders", Transport: transport, MaxAttempts: 1}
		check(w.WriteMessages(ctx, kafka.Message{Value: []byte("x")}))
		require.NoError(t, w.Close())
	})
}
