// Package gcp_test runs the gcp module's sources through real Kafka
// clients (franz-go, sarama) against the bench's in-process broker, with
// idptest's GCE metadata server emulator as the workload's identity.
package gcp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestManagedKafkaThroughBroker has franz-go and sarama produce and
// consume through a broker in Google Managed Kafka mode: it accepts the
// GOOG_OAUTH2_TOKEN wrapper of an access token the metadata server
// issued, and takes the service account's email as principal. Fails
// before BrokerOptions.GoogleAccessTokens: the broker's JWT validator
// refuses the GOOG_OAUTH2_TOKEN header as malformed.
func TestManagedKafkaThroughBroker(t *testing.T) {
	t.Parallel()
	for clientName, roundTrip := range clienttest.Clients() {
		t.Run(clientName, func(t *testing.T) {
			t.Parallel()
			g := idptest.NewGCE(t, &idptest.GCEOptions{Email: "orders@acme-prod.iam.gserviceaccount.com"})
			broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
				GoogleAccessTokens: g,
				Topics:             []string{"orders"},
				NumBrokers:         2,
			})
			src, err := gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{MetadataServer: true, HTTPClient: g.Client()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })

			roundTrip(t, broker.Addrs(), "orders", src, "a", "b", "c")

			auths := broker.Authentications()
			require.NotEmpty(t, auths)
			for _, a := range auths {
				require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
				assert.Equal(t, g.Email, a.Principal, "Managed Kafka's principal is the service account's email")
				assert.Equal(t, "kafka", a.Claims["scope"])
			}
		})
	}
}

// TestIDTokenThroughBroker has franz-go and sarama produce and consume
// through a broker that validates OIDC JWTs against the emulated Google
// issuer's JWKS, expecting the configured audience; the principal is the
// service account's numeric unique ID.
func TestIDTokenThroughBroker(t *testing.T) {
	t.Parallel()
	const audience = "kafka.orders.example.com"
	for clientName, roundTrip := range clienttest.Clients() {
		t.Run(clientName, func(t *testing.T) {
			t.Parallel()
			g := idptest.NewGCE(t, nil)
			broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
				Issuer:                  g.Signer,
				ExpectedAudience:        audience,
				RejectAudienceWhenUnset: true,
				Topics:                  []string{"orders"},
			})
			src, err := gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: audience, MetadataServer: true, HTTPClient: g.Client()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })

			roundTrip(t, broker.Addrs(), "orders", src, "a", "b")

			auths := broker.Authentications()
			require.NotEmpty(t, auths)
			for _, a := range auths {
				require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
				assert.Equal(t, g.UniqueID, a.Principal, "the principal is the service account's unique ID (sub)")
				assert.Equal(t, g.Email, a.Claims["email"])
			}
		})
	}
}
