package oauthbearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// settleFetch waits until the cache runs no fetch: none is scheduled, or
// the scheduled one waits out a delay on the fake clock (its timer is the
// only one pending while a fetch is scheduled).
func settleFetch(t *testing.T, c *oauthbearer.Cache, clock *fakeclock.Clock) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Fetching() && clock.Pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("cache still fetching")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// A server that rejects every token (here: 200 Schema Registry 401s in two
// seconds, each for the freshest token, each followed by a retry) must
// not become a burst of identity-provider requests.
//
// Fails before rejections were rate-limited: 200 rejections cost 201
// fetches.
func TestCacheRateLimitsRejectionsOfFreshTokens(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, nil) // MinBackoff 500ms, MaxBackoff 1m
	_, err := c.Token(context.Background())
	require.NoError(t, err)

	retry, cancel := context.WithCancel(context.Background())
	cancel() // the retrying request asks for a token but does not wait here
	settle := func() { settleFetch(t, c, clock) }
	rejections := 0
	for range 200 {
		if tok, ok := c.Held(); ok {
			c.Invalidate(tok) // the registry's 401
			rejections++
		}
		_, _ = c.Token(retry)
		settle()
		clock.AdvanceSettled(10*time.Millisecond, settle)
	}
	fetches := idp.fetches.Load()
	t.Logf("200 requests in 2s of fake time: %d rejections, %d identity-provider requests", rejections, fetches)
	// The first fetch, the immediate refresh after the first rejection,
	// then waits of at least 250ms, 500ms and 1s: at most 5 within 2s.
	assert.LessOrEqual(t, fetches, int64(5))
	assert.GreaterOrEqual(t, fetches, int64(3), "the first rejection refreshes at once, later ones after a backoff")

	// A token held longer than MaxBackoff and then rejected (the broker
	// rotated its keys) is replaced at once: the count starts over.
	clock.AdvanceSettled(10*time.Minute, settle)
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	held, ok := c.Held()
	require.True(t, ok)
	before := idp.fetches.Load()
	c.Invalidate(held)
	tok, err := c.Token(context.Background()) // no clock advance: it must not wait
	require.NoError(t, err)
	assert.NotEqual(t, held.Value, tok.Value)
	assert.Equal(t, before+1, idp.fetches.Load())
}

// A broker that refuses every token for ten minutes (an audience changed
// at the broker across a fleet) costs each cache about one
// identity-provider request a minute, not one per MaxBackoff: rejections
// are paced on their own one-minute window and cap.
//
// Fails with the pacing tied to MaxBackoff (10s since the failure cap
// follows Kafka's sasl.login.retry.backoff.max.ms): about 100 requests.
func TestCacheSustainedRejectionsCostAboutOneFetchAMinute(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, &oauthbearer.CacheOptions{MaxBackoff: 10 * time.Second})
	_, err := c.Token(context.Background())
	require.NoError(t, err)
	retry, cancel := context.WithCancel(context.Background())
	cancel()
	settle := func() { settleFetch(t, c, clock) }
	for range 10 * 60 * 10 { // every 100ms for ten minutes of fake time
		if tok, ok := c.Held(); ok {
			c.Invalidate(tok)
		}
		_, _ = c.Token(retry)
		settle()
		clock.AdvanceSettled(100*time.Millisecond, settle)
	}
	fetches := idp.fetches.Load()
	t.Logf("ten minutes of rejections: %d identity-provider requests", fetches)
	// Doubling from 500ms to the one-minute cap takes about 2 minutes and
	// 8 requests; then one every 30-60s: at most about 8 + 16.
	assert.LessOrEqual(t, fetches, int64(25))
}
