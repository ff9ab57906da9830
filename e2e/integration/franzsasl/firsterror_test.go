package franzsasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestFranzGoFirstErrorCarriesTheCause: with an identity provider that
// cannot be reached, franz-go's first returned error (Ping, and
// ProduceSync's record error) says why, within the adapter's FetchTimeout
// rather than after azidentity's ~100s of retries; a token the broker
// rejects is an *oauthbearer.RejectedError.
//
// Fails before the azure fail-fast and the cache's gave-up message:
// "unreachable IMDS" got "gave up waiting for a token: context deadline
// exceeded" (the refused connection was still being retried), and
// "silent IdP" the same, naming nothing that runs.
func TestFranzGoFirstErrorCarriesTheCause(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	for _, tc := range kafkatest.FirstErrorCases(iss) {
		t.Run(tc.Name, func(t *testing.T) {
			mech := must(franzsasl.Mechanism(tc.Source(t), &franzsasl.Options{FetchTimeout: 2 * time.Second}))
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(mech),
				kgo.DefaultProduceTopic("orders"), kgo.RecordDeliveryTimeout(5*time.Second), kgo.RetryTimeout(5*time.Second))
			require.NoError(t, err)
			defer cl.Close()
			// A generous deadline: the error must come from the adapter,
			// not from this context ending.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			err = cl.Ping(ctx)
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
			tc.Check(t, err)

			err = cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr()
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
			tc.Check(t, err)
		})
	}
}
