package backoff

import "time"

// The one definition of the retry delays' defaults, used wherever a
// MinBackoff or MaxBackoff is left zero: by oauthbearer.CacheOptions and
// by confluentkafka's Refresher, which retries the same way.
const (
	// DefaultMin is the first delay after a failure.
	DefaultMin = 500 * time.Millisecond
	// DefaultMax caps the doubling delay.
	DefaultMax = time.Minute
)
