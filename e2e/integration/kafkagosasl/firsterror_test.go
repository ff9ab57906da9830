package kafkagosasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
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
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	for _, tc := range kafkatest.FirstErrorCases(iss) {
		t.Run(tc.Name, func(t *testing.T) {
			mech := must(kafkagosasl.Mechanism(tc.Source(t), &kafkagosasl.Options{FetchTimeout: 2 * time.Second}))
			// A generous deadline: the error must come from the adapter,
			// not from this context ending.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			d := &kafka.Dialer{SASLMechanism: mech, Timeout: 30 * time.Second}
			conn, err := d.DialContext(ctx, "tcp", broker.Addrs()[0])
			if conn != nil {
				_ = conn.Close()
			}
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
			tc.Check(t, err)

			transport := &kafka.Transport{SASL: mech}
			defer transport.CloseIdleConnections()
			w := &kafka.Writer{Addr: kafka.TCP(broker.Addrs()...), Topic: "orders", Transport: transport, MaxAttempts: 1}
			err = w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
			tc.Check(t, err)
			require.NoError(t, w.Close())
		})
	}
}
