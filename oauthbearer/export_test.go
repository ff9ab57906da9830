package oauthbearer

// Fetching reports whether a fetch is scheduled or running, so tests can
// wait for background work without sleeping.
func (c *Cache) Fetching() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flight != nil
}
