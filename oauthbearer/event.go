package oauthbearer

import "time"

// RefreshEvent describes one attempt of a [Cache] to fetch a token. It
// never carries the token itself.
type RefreshEvent struct {
	// Source is [CacheOptions.Name], and Kind the source kind (see
	// [CacheStatus.Kind]).
	Source, Kind string
	// Start is when the fetch started, and Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Expiry is the new token's expiry when the fetch succeeded.
	Expiry time.Time
	// Err is the failure, or nil.
	Err error
	// ErrorType classifies Err from a fixed set, for metric labels: one
	// of the ErrorType constants ([ErrorTypeConnect], ...), from the last
	// identity-provider request's outcome when the source made one
	// through this module's HTTP client, else from Err's types. Empty on
	// success.
	ErrorType string
	// Background is true when a still-valid token was being served while
	// this fetch ran, so no caller waited for it.
	Background bool
	// Failures counts consecutive failed fetches, including this one.
	Failures int
	// NextRetry is when the cache will try again after a failure.
	NextRetry time.Time
}
