package saramasasl_test

import (
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
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
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	for _, tc := range []struct {
		name  string
		src   func(t *testing.T) oauthbearer.TokenSource
		check func(t *testing.T, err error)
	}{
		{"unreachable IMDS", func(t *testing.T) oauthbearer.TokenSource { return kafkatest.UnreachableManagedIdentity(t) },
			func(t *testing.T, err error) { assert.ErrorContains(t, err, kafkatest.CauseUnreachable) }},
		{"silent IdP", func(t *testing.T) oauthbearer.TokenSource { return kafkatest.SilentIdP(t) },
			func(t *testing.T, err error) { assert.ErrorContains(t, err, kafkatest.CauseSilent) }},
		{"rejected token", func(t *testing.T) oauthbearer.TokenSource {
			return &kafkatest.MintingSource{Issuer: iss, Audience: "not-kafka", TTL: time.Hour}
		}, func(t *testing.T, err error) {
			var rej *oauthbearer.RejectedError
			assert.True(t, errors.As(err, &rej), "got %v", err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sarama.NewConfig()
			cfg.Version = sarama.V3_6_0_0
			cfg.Metadata.Retry.Max = 0
			_, err := saramasasl.Configure(cfg, tc.src(t), &saramasasl.Options{FetchTimeout: 2 * time.Second})
			require.NoError(t, err)
			client, err := saramasasl.NewClient(broker.Addrs(), cfg)
			if client != nil {
				_ = client.Close()
			}
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}
