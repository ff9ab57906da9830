package oauthbearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestBackoffNeverOverflows: with a long MinBackoff (Kafka's
// sasl.login.retry.backoff.ms=10000 becomes 10s) the 31st consecutive
// failure computed 10s<<30, which overflows int64 to a negative duration,
// and rand.Int64N panicked in the cache's goroutine, taking the process
// down. Fails (panics) before the saturating doubling. Every delay stays
// within [0, MaxBackoff*5/4]. Every delay stays
// within [0, MaxBackoff*5/4].
func TestBackoffNeverOverflows(t *testing.T) {
	for _, o := range []oauthbearer.CacheOptions{
		{MinBackoff: 10 * time.Second, MaxBackoff: time.Minute},
		{MinBackoff: 10 * time.Second, MaxBackoff: 1<<63 - 1},
		{MinBackoff: time.Nanosecond, MaxBackoff: 1<<63 - 1},
		{},
	} {
		c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
			return oauthbearer.Token{}, nil
		}), &o)
		require.NoError(t, err)
		for n := 1; n <= 200; n++ {
			d := c.Backoff(n)
			max := o.MaxBackoff
			if max == 0 {
				max = 10 * time.Second
			}
			require.GreaterOrEqual(t, d, time.Duration(0), "failure %d with %+v", n, o)
			// At the cap the delay is spread up to a quarter above it
			// (saturating for a cap near the largest duration).
			limit := max + max/4
			if limit < max {
				limit = 1<<63 - 1
			}
			require.LessOrEqual(t, d, limit, "failure %d with %+v", n, o)
		}
		require.NoError(t, c.Close())
	}
}
