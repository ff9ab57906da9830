package saramasasl_test

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// TestSaramaFirstErrorCarriesTheCause: with an identity provider that
// cannot be reached, the first error sarama returns (creating the client)
// says why, within the provider's FetchTimeout; a token the broker
// rejects is an *oauthbearer.RejectedError without the application calling
// Explain, when the client is made with saramasasl.NewClient.
//
// Fails before the azure fail-fast, the cache's gave-up message and
// saramasasl.NewClient: "unreachable IMDS" and "silent IdP" got "gave up
// waiting for a token: context deadline exceeded", and "rejected token"
// sarama's bare "invalid credentials" (Configure and NewClient did not
// exist).
func TestSaramaFirstErrorCarriesTheCause(t *testing.T) {
	kafkatest.RunFirstErrorCases(t, func(t *testing.T, _ context.Context, addrs []string, src oauthbearer.TokenSource, check func(error)) {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V3_6_0_0
		cfg.Metadata.Retry.Max = 0
		_, err := saramasasl.Configure(cfg, src, &saramasasl.Options{FetchTimeout: 2 * time.Second})
		require.NoError(t, err)
		client, err := saramasasl.NewClient(addrs, cfg)
		if client != nil {
			_ = client.Close()
		}
		check(err)
	})
}
