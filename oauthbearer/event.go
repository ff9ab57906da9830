package oauthbearer

import "time"

// RefreshEvent describes one attempt of a [Cache] to fetch a token. It
// never carries the token itself.
type RefreshEvent struct {
	// Source is [CacheOptions.Name].
	Source string
	// Start is when the fetch started, and Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Expiry is the new token's expiry when the fetch succeeded.
	Expiry time.Time
	// Err is the failure, or nil.
	Err error
	// Background is true when a still-valid token was being served while
	// this fetch ran, so no caller waited for it.
	Background bool
	// Failures counts consecutive failed fetches, including this one.
	Failures int
	// NextRetry is when the cache will try again after a failure.
	NextRetry time.Time
}
