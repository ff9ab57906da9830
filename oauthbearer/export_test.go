package oauthbearer

import "time"

// Fetching reports whether a fetch is scheduled or running, so tests can
// wait for background work without sleeping.
func (c *Cache) Fetching() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flight != nil
}

// Held returns the token the fast path would consider, without reading
// the clock or starting anything.
func (c *Cache) Held() (Token, bool) {
	if e := c.cur.Load(); e != nil {
		return e.tok, true
	}
	return Token{}, false
}

// Backoff exposes the delay after the n-th consecutive failure.
func (c *Cache) Backoff(n int) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backoff(n, 0)
}

// ErrorTypeOf classifies err as a failed fetch without any HTTP request.
func ErrorTypeOf(err error) string { return errorType(err, 0, nil) }
