package oauthbearer_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestCacheProbesWithoutTokenAtMostOncePerMaxBackoff: once the token ran
// out during an outage, the cache keeps asking the identity provider on its
// own (no caller needed), never more than once per MaxBackoff once the
// step reached the cap, and holds a new token within MaxBackoff*5/4 of the
// provider's return. Before probing, a cache without a token fetched only
// when a caller asked, so recovery waited for the next caller.
func TestCacheProbesWithoutTokenAtMostOncePerMaxBackoff(t *testing.T) {
	t.Parallel()
	down := oauthbearer.Transient(errors.New("idp down"), 0)
	c, idp, clock, events := newTestCache(t, time.Hour, nil)
	_, first := pastFirstRefresh(t, c, clock, events, time.Hour)

	idp.failAlways(down)
	settle := func() { quiesce(t, c) }
	// Two hours of outage: the token runs out after about 59 minutes.
	var last time.Time
	lastFailures := 0
	for clock.Now().Before(epoch.Add(4 * time.Hour)) {
		clock.AdvanceSettled(time.Second, settle)
		for {
			select {
			case ev := <-events:
				require.Error(t, ev.Err)
				if ev.Failures > 6 && ev.Failures == lastFailures+1 { // the delay after the 6th failure reached the 10s cap
					assert.GreaterOrEqual(t, ev.Start.Sub(last), 10*time.Second, "at most one request per MaxBackoff")
				}
				last, lastFailures = ev.Start, ev.Failures
				continue
			default:
			}
			break
		}
	}
	require.True(t, clock.Now().After(first.Expiry), "the token ran out during the outage")
	fetches := idp.fetches.Load()
	outage := clock.Now().Sub(first.Expiry.Add(-time.Hour * 2 / 10)) // from the refresh point on
	assert.LessOrEqual(t, fetches, int64(outage/(10*time.Second))+10, "about one probe per 10s over the outage, no more")
	assert.Greater(t, fetches, int64(outage/(13*time.Second)), "probing went on without any caller")

	idp.failAlways(nil)
	back := clock.Now()
	for {
		clock.AdvanceSettled(time.Second, settle)
		if tok, ok := c.Held(); ok && tok.Value != first.Value {
			break // no caller asked: the cache's own probe got it
		}
		require.Less(t, clock.Now().Sub(back), 13*time.Second, "no token within MaxBackoff*5/4 of the provider's return")
	}
}

// TestCacheDoesNotProbePermanentFailures: a permanent failure with no
// token held is not retried in the background (it will not heal); the
// next caller after the backoff tries again.
func TestCacheDoesNotProbePermanentFailures(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, nil)
	idp.failAlways(errors.New("bad audience"))
	_, err := c.Token(context.Background())
	require.Error(t, err)
	nextEvent(t, events)
	clock.AdvanceSettled(10*time.Minute, func() { quiesce(t, c) })
	assert.Equal(t, int64(1), idp.fetches.Load())
}

// TestCacheRandMakesSchedulesReproducible: two caches with the same Rand
// seed and clock refresh at the same points.
func TestCacheRandMakesSchedulesReproducible(t *testing.T) {
	t.Parallel()
	refreshAt := func(seed uint64) []time.Time {
		c, _, clock, events := newTestCache(t, time.Hour, &oauthbearer.CacheOptions{Jitter: 0.1, Rand: rand.NewPCG(seed, seed)})
		_, err := c.Token(context.Background())
		require.NoError(t, err)
		nextEvent(t, events)
		var at []time.Time
		for range 3 {
			start := clock.Now()
			for {
				clock.AdvanceSettled(time.Second, func() { quiesce(t, c) })
				select {
				case ev := <-events:
					require.NoError(t, ev.Err)
					at = append(at, ev.Start)
				default:
					require.Less(t, clock.Now().Sub(start), time.Hour)
					continue
				}
				break
			}
		}
		return at
	}
	a, b, other := refreshAt(1), refreshAt(1), refreshAt(2)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, other)
}
