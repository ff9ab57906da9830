package saslmsg

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestRejectionReported: a broker's error challenge is reported to the
// observer of the cache behind the mechanism (through WithExtensions),
// by the adapter's name with the broker's status, and the token is
// invalidated.
func TestRejectionReported(t *testing.T) {
	t.Parallel()
	c, obs := obstest.NewRejectionsCache(t, "orders")
	src, err := oauthbearer.WithExtensions(c, map[string]string{"logicalCluster": "lkc-1"})
	require.NoError(t, err)
	cl, err := NewClient("franzsasl", src, 0, "", nil)
	require.NoError(t, err)
	ex, _, err := cl.Start(context.Background(), "broker 127.0.0.1:9092")
	require.NoError(t, err)
	done, err := ex.Reply([]byte(`{"status":"JWT_PROCESSING_FAILED"}`))
	assert.False(t, done)
	require.Error(t, err)
	assert.Equal(t, []oauthbearer.RejectionEvent{{Source: "orders", Kind: "custom", Adapter: "franzsasl", Status: "JWT_PROCESSING_FAILED"}}, obs.Rejections())
	assert.Equal(t, 1, obs.Invalidations())
}
