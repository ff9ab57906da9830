package saramasasl_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// TestExplainReportsTheRejection: a SASL authentication failure that
// Explain turns into a rejection is reported to the observer of the
// cache behind the provider, with the broker's status, and the token is
// invalidated.
func TestExplainReportsTheRejection(t *testing.T) {
	t.Parallel()
	obs := &obstest.Rejections{}
	c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	}), &oauthbearer.CacheOptions{Name: "orders", Observer: obs})
	require.NoError(t, err)
	defer c.Close()
	p, err := saramasasl.NewTokenProvider(c, nil)
	require.NoError(t, err)
	_, err = p.Token()
	require.NoError(t, err)
	err = p.Explain(fmt.Errorf("%w: JWT_PROCESSING_FAILED", sarama.ErrSASLAuthenticationFailed))
	_, ok := err.(*oauthbearer.RejectedError)
	require.True(t, ok, "%v", err)
	assert.Equal(t, []oauthbearer.RejectionEvent{{Source: "orders", Kind: "custom", Adapter: "saramasasl", Status: "JWT_PROCESSING_FAILED"}}, obs.Rejections())
	assert.Equal(t, 1, obs.Invalidations())
}
