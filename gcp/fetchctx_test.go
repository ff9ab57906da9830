package gcp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Fails before fetchClient: x/oauth2's jwt-bearer grant posts under
// context.Background, so a token endpoint that never answers kept the
// request open after Close (until the client's 30s timeout), with its
// goroutine and connection.
func TestKeyTokenRequestEndsWithClose(t *testing.T) {
	for name, build := range map[string]func(key []byte) (*oauthbearer.Cache, error){
		"id token": func(key []byte) (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{Audience: "kafka", CredentialsJSON: key})
		},
		"managed kafka": func(key []byte) (*oauthbearer.Cache, error) {
			return NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: key})
		},
	} {
		t.Run(name, func(t *testing.T) {
			arrived, ended := make(chan struct{}), make(chan struct{})
			var once sync.Once
			stop := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				// Read the form: the server notices the client going
				// away only once the body is read.
				_, _ = io.Copy(io.Discard, r.Body)
				once.Do(func() { close(arrived) })
				select {
				case <-r.Context().Done():
					close(ended)
				case <-stop:
				}
			}))
			defer srv.Close()
			defer close(stop)
			var key map[string]any
			require.NoError(t, json.Unmarshal(idptest.NewGCE(t, nil).ServiceAccountKeyJSON, &key))
			key["token_uri"] = srv.URL + "/token"
			b, err := json.Marshal(key)
			require.NoError(t, err)
			src, err := build(b)
			require.NoError(t, err)
			go func() { _, _ = src.Token(t.Context()) }()
			select {
			case <-arrived:
			case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
				t.Fatal("the token request never arrived")
			}
			require.NoError(t, src.Close())
			select {
			case <-ended:
			case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
				t.Fatal("the token request is still open after Close")
			}
		})
	}
}
