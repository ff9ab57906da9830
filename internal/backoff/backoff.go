// Package backoff is the one retry delay of the module: the refreshing
// cache (oauthbearer) and the confluent-kafka-go refresher use it, so the
// two cannot drift.
//
// Two shapes, chosen by what they space out:
//
//   - [Delay], after a failed fetch, is a good citizen of a shared,
//     rate-limited identity provider: a server's Retry-After is a lower
//     bound and the delay is spread above it ("full jitter" over the
//     doubled step), so that a fleet throttled together does not come
//     back together; once the step reaches the cap it stays at least the
//     cap (spread up to a quarter above it), so a cache never sends more
//     than one request per cap, however long the outage.
//   - [Spaced], between fetches after rejected tokens, is "equal jitter"
//     (a uniform value in [d/2, d]): it only spaces one process's own
//     requests, so it keeps a floor that grows.
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// step is minimum doubled n-1 times, stopping at maximum: a shift by n-1
// overflows int64 for long minimums (10s<<30 is negative) and rand.Int64N
// panics on the result.
func step(n int, minimum, maximum time.Duration) time.Duration {
	d := minimum
	for i := 1; i < n && d < maximum; i++ {
		if d > maximum/2 {
			d = maximum
			break
		}
		d *= 2
	}
	return min(d, maximum)
}

// uniform returns a uniform duration in [0, d]; r nil means the global
// source.
func uniform(r *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if r == nil {
		return time.Duration(rand.Int64N(int64(d) + 1))
	}
	return time.Duration(r.Int64N(int64(d) + 1))
}

// Delay is the wait before the next attempt after n consecutive failures
// (n >= 1). The step doubles from minimum up to maximum. Below the cap
// the delay is retryAfter (a server's Retry-After, 0 if none) plus a
// uniform value in [0, step]; at the cap it is max(retryAfter, maximum)
// plus a uniform value in [0, maximum/4]. So it is never below
// retryAfter, never above retryAfter + maximum*5/4, and at the cap never
// below maximum. minimum and maximum must be positive, minimum <=
// maximum. r is the source of randomness (nil: the global one); it is
// not safe for concurrent use, so callers hold a lock.
func Delay(r *rand.Rand, n int, minimum, maximum, retryAfter time.Duration) time.Duration {
	retryAfter = max(retryAfter, 0)
	if s := step(n, minimum, maximum); s < maximum {
		return add(retryAfter, uniform(r, s))
	}
	return add(max(retryAfter, maximum), uniform(r, maximum/4))
}

// add is a+b for non-negative durations, saturating instead of
// overflowing (a cap near the largest duration).
func add(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Spaced is the wait before the next fetch after the n-th consecutive
// rejection of a fresh token (n >= 1): the doubled step with equal
// jitter, a uniform value in [step/2, step].
func Spaced(r *rand.Rand, n int, minimum, maximum time.Duration) time.Duration {
	d := step(n, minimum, maximum)
	return d/2 + uniform(r, d/2)
}
