package franzsasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
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
	kafkatest.RunFirstErrorCases(t, func(t *testing.T, ctx context.Context, addrs []string, src oauthbearer.TokenSource, check func(error)) {
		mech := must(franzsasl.Mechanism(src, &franzsasl.Options{FetchTimeout: 2 * time.Second}))
		cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.SASL(mech),
			kgo.DefaultProduceTopic("orders"), kgo.RecordDeliveryTimeout(5*time.Second), kgo.RetryTimeout(5*time.Second))
		require.NoError(t, err)
		defer cl.Close()
		check(cl.Ping(ctx))
		check(cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr())
	})
}
