package backoff

import "time"

// The one definition of the retry delays' defaults, used wherever a
// MinBackoff or MaxBackoff is left zero: by oauthbearer.CacheOptions and
// by confluentkafka's Refresher, which retries the same way.
const (
	// DefaultMin is the first delay after a failure.
	DefaultMin = 500 * time.Millisecond
	// DefaultMax caps the doubling delay: Kafka's
	// sasl.login.retry.backoff.max.ms default (docs/fleet.md).
	DefaultMax = 10 * time.Second
	// RejectionMax is the window and the cap of the pacing of rejected
	// fresh tokens (oauthbearer.Cache.Invalidate), never less than the
	// failure cap: a broker that refuses every token (a wrong audience
	// across a fleet) costs each cache about one identity-provider
	// request a minute, not one per DefaultMax, while a token held
	// longer and then refused (a key rotation) is replaced at once.
	RejectionMax = time.Minute
)
