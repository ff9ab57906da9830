package azure_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

type countingNet struct{ n atomic.Int64 }

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (c *countingNet) NoMetadataProxy() {}

func (c *countingNet) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// Fails on main: an App Service identity endpoint (IDENTITY_ENDPOINT)
// at plain http to a host that is neither loopback nor link-local got
// the request, with the X-IDENTITY-HEADER secret, in clear text. The
// credential gate refuses it before anything is sent, permanently.
// Not parallel: azidentity reads the process environment.
func TestManagedIdentityInsecureEndpointRefused(t *testing.T) {
	t.Setenv("IDENTITY_ENDPOINT", "http://10.1.2.3:8081/msi/token")
	t.Setenv("IDENTITY_HEADER", "app-service-identity-header-secret")
	for _, v := range []string{"MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"} {
		t.Setenv(v, "")
	}
	net := &countingNet{}
	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: "api://kafka", HTTPClient: &http.Client{Transport: net},
		Cache: &oauthbearer.CacheOptions{FetchTimeout: 5 * time.Second}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = src.Token(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused to send a request to")
	assert.NotContains(t, err.Error(), "app-service-identity-header-secret")
	assert.False(t, oauthbearer.IsTransient(err), "an insecure endpoint setting does not heal by retrying")
	assert.Zero(t, net.n.Load(), "nothing was sent")
}
