//go:build cgo

package confluentkafka

import (
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

type nopClient struct{}

func (nopClient) SetOAuthBearerToken(kafka.OAuthBearerToken) error { return nil }
func (nopClient) SetOAuthBearerTokenFailure(string) error          { return nil }

// The refresher retries as the cache does, so its zero options mean the
// cache's defaults, from their one definition. Fails before: the
// refresher had its own 1s and 30s.
func TestRefresherDefaultsAreTheCaches(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "v", Expiry: time.Now().Add(time.Hour)})
	for _, opts := range []*Options{nil, {}} {
		r, err := NewRefresher(nopClient{}, src, opts)
		require.NoError(t, err)
		assert.Equal(t, backoff.DefaultMin, r.opts.MinBackoff)
		assert.Equal(t, backoff.DefaultMax, r.opts.MaxBackoff)
		assert.Equal(t, oauthbearer.DefaultFetchTimeout, r.opts.FetchTimeout)
		assert.Equal(t, defaultReadyTimeout, r.opts.ReadyTimeout)
		r.Close()
	}
}
