package oauthbearer

import "time"

// probeLocked reports whether a failed fetch is retried in the background,
// by a timer, at next. c.mu must be held.
//
// While a valid token remains, always: the refresh must succeed before the
// token runs out. With no valid token (the first fetch failed, or the
// token ran out during an outage), only after a transient failure: then
// the cache probes the identity provider on its own at the backoff's pace
// (at most one request per MaxBackoff once the step reaches the cap), so
// that it holds a fresh token within about MaxBackoff of the provider's
// return instead of waiting for a caller, whose calls meanwhile wait for
// the probe instead of adding requests. A permanent failure (a wrong
// setting, no identity) is not probed: waiting will not heal it, and an
// idle fleet must not poll a provider forever with requests that cannot
// succeed; the next caller after the backoff tries again.
func (c *Cache) probeLocked(prev *entry, next time.Time, err error) bool {
	if c.closed {
		return false
	}
	if prev != nil && unixNano(next) < prev.usableUntil {
		return true
	}
	return IsTransient(err)
}
