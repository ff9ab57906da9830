package schemaregistry

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestTransportReports401Refreshes: a 401 that makes the transport drop
// the token and retry is reported to the cache's observer as a rejection
// by "schemaregistry" with status "401", next to the invalidation.
func TestTransportReports401Refreshes(t *testing.T) {
	t.Parallel()
	obs := &obstest.Rejections{}
	c, err := oauthbearer.NewCache(&countingSource{}, &oauthbearer.CacheOptions{Name: "registry", Observer: obs})
	require.NoError(t, err)
	defer c.Close()
	base := &recordingRT{statuses: []int{401, 200}}
	tr, err := NewTransport(c, &TransportOptions{Base: base, LogicalCluster: testLSRC})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, "https://psrc.example/subjects", nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []oauthbearer.RejectionEvent{{Source: "registry", Kind: "custom", Adapter: "schemaregistry", Status: "401"}}, obs.Rejections())
	assert.Equal(t, 1, obs.Invalidations())
}
