package oauthclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// An identity provider that accepts the request and never answers: the
// caller's error names the endpoint it waits for (without query or user
// info), not only "context deadline exceeded".
//
// Fails before: the cache was named "oauth client credentials" only.
func TestSilentIdentityProviderNamesTheEndpoint(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	src, err := NewClientCredentials(&ClientCredentialsOptions{
		TokenURL: srv.URL + "/oauth2/token?tenant=t1", ClientID: "app", ClientSecret: "s3cret-s3cret-s3cret",
		Cache: &oauthbearer.CacheOptions{FetchTimeout: time.Hour},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the Kafka client gives up; the fetch keeps running
	_, err = src.Token(ctx)
	require.Error(t, err)
	// The endpoint's origin: the name also labels metrics, so no path.
	assert.Contains(t, err.Error(), "oauth client credentials at "+srv.URL)
	assert.NotContains(t, err.Error(), "/oauth2/token")
	assert.NotContains(t, err.Error(), "tenant=t1")
	assert.NotContains(t, err.Error(), "s3cret")
}
