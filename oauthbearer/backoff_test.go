package oauthbearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestBackoffNeverOverflows: with a long MinBackoff (Kafka's
// sasl.login.retry.backoff.ms=10000 becomes 10s) the 31st consecutive
// failure computed 10s<<30, which overflows int64 to a negative duration,
// and rand.Int64N panicked in the cache's goroutine, taking the process
// down. Fails (panics) before the saturating doubling.
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
		prev := time.Duration(0)
		for n := 1; n <= 200; n++ {
			d := c.Backoff(n)
			max := o.MaxBackoff
			if max == 0 {
				max = time.Minute
			}
			require.GreaterOrEqual(t, d, time.Duration(0), "failure %d with %+v", n, o)
			require.LessOrEqual(t, d, max, "failure %d with %+v", n, o)
			if n > 1 && prev < max/4 {
				// Below the cap the upper bound doubles: never a drop to a tiny value.
				assert.GreaterOrEqual(t, d, prev/4, "failure %d with %+v", n, o)
			}
			prev = d
		}
		require.NoError(t, c.Close())
	}
}
