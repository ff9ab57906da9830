// Package retryafter parses the Retry-After header identity providers send
// with 429 and 503 replies. Every source in the module uses it, so they all
// read the header the same way and cap it the same way.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Max caps what a server can ask for: a bogus or hostile header
// ("Retry-After: 99999999999999", a date in 2099) must not stall a client
// for days. The cache retries only while its token is valid anyway.
const Max = time.Hour

// Parse reads a Retry-After value, either delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3), relative to now. It returns 0 for an empty,
// negative, past or malformed value, and at most [Max].
func Parse(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return Seconds(n)
	}
	if t, err := http.ParseTime(v); err == nil {
		return clamp(t.Sub(now))
	}
	return 0
}

// Seconds converts a delay in seconds, clamped to [0, Max] without
// overflowing.
func Seconds(n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	if n >= int64(Max/time.Second) {
		return Max
	}
	return time.Duration(n) * time.Second
}

// Millis reads a delay in milliseconds (Azure's Retry-After-Ms and
// X-Ms-Retry-After-Ms), clamped to [0, Max]; malformed values give 0.
func Millis(v string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if n >= int64(Max/time.Millisecond) {
		return Max
	}
	return time.Duration(n) * time.Millisecond
}

func clamp(d time.Duration) time.Duration {
	return min(max(d, 0), Max)
}
