package oauthbearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A system suspend stops Go's monotonic clock, and so every timer, while
// the wall clock moves on. fakeclock's Jump simulates one.

// Fails before the wall-clock check on the fast path: the cache handed out
// the token that expired during the suspend, on every call, until its
// expiry timer fired (an hour of monotonic time later).
func TestCacheNeverHandsOutTokenExpiredDuringSuspend(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, nil)
	first, err := c.Token(context.Background())
	require.NoError(t, err)
	nextEvent(t, events)

	idp.hold() // the new fetch waits, so a caller can only get the old token or nothing
	clock.Jump(2 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		tok, err := c.Token(ctx)
		require.Error(t, err, "a token expired by the wall clock was handed out")
		require.NotEqual(t, first.Value, tok.Value)
	}

	idp.release()
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, tok.Value)
	assert.True(t, tok.Expiry.After(clock.Now()))
}

// Fails before the wall-clock check on the fast path: no refresh started
// until the refresh timer fired, 47 to 49 minutes of monotonic time after
// the fetch, however long the machine had slept.
func TestCacheRefreshesAfterSuspendPastRefreshPoint(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, nil)
	first, err := c.Token(context.Background())
	require.NoError(t, err)
	nextEvent(t, events)
	waitStarted(t, idp) // the first fetch's signal

	idp.hold()
	clock.Jump(55 * time.Minute) // past the refresh point (at most 49m12s), before the usable end (59m)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled context proves the caller did not wait
	for range 100 {
		tok, err := c.Token(ctx)
		require.NoError(t, err, "the held token is still usable")
		require.Equal(t, first.Value, tok.Value)
	}
	waitStarted(t, idp) // a background refresh, with no timer fired
	assert.EqualValues(t, 2, idp.fetches.Load(), "one refresh for 100 callers")

	idp.release()
	ev := nextEvent(t, events)
	require.NoError(t, ev.Err)
	assert.True(t, ev.Background)
	tok, err := c.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, tok.Value)
}
