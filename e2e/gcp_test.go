//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// TestRealBrokerGCPIDToken produces and consumes on a real Apache Kafka
// broker configured as for Google-signed ID tokens: its listener's JWKS
// and expected issuer are the emulated Google's (the GCE metadata server
// emulator's signer), the expected audience the one the source asks for,
// "sub" (the service account's numeric ID) the principal.
//
//	go test -tags e2e -run TestRealBrokerGCPIDToken ./e2e/
func TestRealBrokerGCPIDToken(t *testing.T) {
	google := idptest.NewIssuer(t, nil)
	gce := idptest.NewGCE(t, &idptest.GCEOptions{Signer: google})
	b := startBroker(t, google, kafkatest.Options{})

	src, err := gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: audience, MetadataServer: true, HTTPClient: gce.Client()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	franzProduceConsume(ctx, t, b, src, "gcp-id-token", 1)

	tok, err := src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, gce.UniqueID, tok.Principal)
	for _, r := range gce.Requests() {
		if r.Token != "" {
			assert.Equal(t, []string{audience}, r.Audience)
		}
	}
	assert.Positive(t, len(gce.Issued()), "the metadata server issued the ID tokens")
}
