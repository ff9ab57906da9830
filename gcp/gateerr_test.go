package gcp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// golang.org/x/oauth2 quotes a transport error with %v; the gate's typed
// errors still reach the caller whole: an untrusted certificate names the
// host and the CA setting (before: the message was clipped to 300
// characters, and errors.As found nothing), a refused redirect matches
// oauthbearer.ErrRedirectRefused and is permanent (before: transient,
// retried).
func TestKeyTokenEndpointKeepsGateErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example.com/steal?code=1", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	var key map[string]any
	require.NoError(t, json.Unmarshal(idptest.NewGCE(t, nil).ServiceAccountKeyJSON, &key))
	key["token_uri"] = srv.URL + "/token"
	js, err := json.Marshal(key)
	require.NoError(t, err)
	fast := &oauthbearer.CacheOptions{FetchTimeout: 5 * time.Second}

	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: js, Cache: fast})
	err = fetchErr(t, src, err)
	var te *idphttp.TLSError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), strings.TrimPrefix(srv.URL, "https://"))
	assert.Contains(t, err.Error(), "idpclient.Options.RootCAFile")
	assert.True(t, oauthbearer.IsTransient(err))

	src, err = NewIDToken(t.Context(), &IDTokenOptions{Audience: "kafka", CredentialsJSON: js, HTTPClient: srv.Client(), Cache: fast})
	err = fetchErr(t, src, err)
	require.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
	assert.False(t, oauthbearer.IsTransient(err))
	assert.NotContains(t, err.Error(), "/steal")
}
