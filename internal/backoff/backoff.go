// Package backoff is the one retry delay of the module: the refreshing
// cache (oauthbearer) and the confluent-kafka-go refresher use it, so the
// two cannot drift.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Delay is the wait before the next attempt after n consecutive failures
// (n >= 1): minimum doubled step by step up to maximum, with equal jitter
// (a uniform value in [d/2, d]), and never below retryAfter (a server's
// Retry-After). minimum and maximum must be positive, minimum <= maximum.
func Delay(n int, minimum, maximum, retryAfter time.Duration) time.Duration {
	// Double step by step, stopping at the cap: a shift by n-1 overflows
	// int64 for long minimums (10s<<30 is negative) and rand.Int64N
	// panics on the result.
	d := minimum
	for i := 1; i < n && d < maximum; i++ {
		if d > maximum/2 {
			d = maximum
			break
		}
		d *= 2
	}
	d = min(d, maximum)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	return max(d, retryAfter)
}
