package oauthbearer

import "time"

// spreadRefresh moves the refresh point of a token fetched while no valid
// token was held (a process's first token, or the first after an outage)
// to a uniform point between a quarter of refresh and refresh.
//
// Processes that start together (a deployment, a fleet recovering from an
// outage) fetch within seconds of each other; with the refresh point at
// 80% ±2% of the life their refreshes would come in waves of the same
// width forever after. Spreading the first refresh over three quarters of
// the refresh period randomizes each process's phase once, so the fleet's
// refreshes arrive at about the steady mean rate from the start (within
// about 1.35x of it), for the cost of one early refresh per process
// start. Later refreshes keep RefreshFraction ± Jitter.
func (c *Cache) spreadRefresh(refresh time.Duration) time.Duration {
	return refresh/4 + time.Duration(c.rnd.Float64()*float64(refresh*3/4))
}
