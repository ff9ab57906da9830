package oauthbearer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestCacheSingleFlightThousandCallers(t *testing.T) {
	t.Parallel()
	c, idp, _, _ := newTestCache(t, time.Hour, nil)
	idp.hold()

	const callers = 1000
	var wg sync.WaitGroup
	toks := make([]oauthbearer.Token, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = c.Token(context.Background())
		}()
	}
	waitStarted(t, idp)
	idp.release()
	wg.Wait()

	assert.EqualValues(t, 1, idp.fetches.Load(), "identity provider requests for %d concurrent callers", callers)
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, toks[0].Value, toks[i].Value)
	}
}

func TestCacheRefreshesInBackgroundWhileServingValidToken(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, nil)
	fetched, first := pastFirstRefresh(t, c, clock, events, time.Hour)

	// Before the refresh point (>= 80% - 2% jitter = 46m48s): no fetch.
	clock.Advance(fetched.Add(44 * time.Minute).Sub(clock.Now()))
	assert.EqualValues(t, 2, idp.fetches.Load())

	// Past it, the timer starts a refresh; it is held at the IdP while
	// callers keep getting the current token without waiting.
	idp.hold()
	clock.Advance(6 * time.Minute) // past the latest refresh point, 49m12s
	waitStarted(t, idp)
	waitStarted(t, idp) // the first two fetches' signals
	waitStarted(t, idp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled context proves the caller did not wait
	for range 100 {
		tok, err := c.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, first.Value, tok.Value)
	}
	idp.release()
	ev := nextEvent(t, events)
	require.NoError(t, ev.Err)
	assert.True(t, ev.Background, "refresh ran while a valid token was held")

	second, err := c.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, second.Value)
	assert.EqualValues(t, 3, idp.fetches.Load())
}

func TestCacheNeverHandsOutTokenInsideSafetyMargin(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, &oauthbearer.CacheOptions{SafetyMargin: 2 * time.Minute})
	first, err := c.Token(context.Background())
	require.NoError(t, err)
	nextEvent(t, events)

	// The IdP fails from now on; background retries keep failing.
	idp.failAlways(errIdPDown)
	clock.Advance(time.Hour - 2*time.Minute - time.Second)
	tok, err := c.Token(context.Background())
	require.NoError(t, err, "still outside the margin")
	require.Equal(t, first.Value, tok.Value)

	clock.Advance(2 * time.Second) // now 1m59s before expiry: inside the margin
	quiesce(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// The cache waits out its backoff on the fake clock; let time pass.
		for ctx.Err() == nil {
			clock.Advance(time.Second)
			time.Sleep(time.Millisecond)
		}
	}()
	tok, err = c.Token(ctx)
	cancel()
	require.Error(t, err)
	assert.True(t, tok.IsZero(), "no token inside the safety margin")
	assert.ErrorIs(t, err, errIdPDown)
}

func TestCacheFailedRefreshKeepsValidToken(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	// A tiny jitter pins the refresh point within 0.4s of 48m; backoffs of
	// at least 5s keep each clock jump to a single attempt.
	c, idp, clock, events := newTestCache(t, time.Hour, &oauthbearer.CacheOptions{
		Jitter: 0.0001, MinBackoff: 10 * time.Second, MaxBackoff: 20 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	fetched, first := pastFirstRefresh(t, c, clock, events, time.Hour)

	idp.failNext(errIdPDown, errIdPDown, errIdPDown)
	clock.AdvanceSettled(fetched.Add(48*time.Minute+time.Second).Sub(clock.Now()), func() { quiesce(t, c) })
	for range 3 {
		ev := nextEvent(t, events)
		require.ErrorIs(t, ev.Err, errIdPDown)
		require.True(t, ev.Background)
		tok, err := c.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, first.Value, tok.Value, "a failed refresh must not drop the valid token")
		clock.AdvanceSettled(ev.NextRetry.Sub(clock.Now()), func() { quiesce(t, c) })
	}
	ev := nextEvent(t, events)
	require.NoError(t, ev.Err)
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, tok.Value)
	assert.Contains(t, logs.String(), "still serving the current token")
}

func TestCacheBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	minB, maxB := time.Minute, 16*time.Minute
	c, idp, clock, events := newTestCache(t, 10*time.Hour, &oauthbearer.CacheOptions{Jitter: 0.0001, MinBackoff: minB, MaxBackoff: maxB})
	_, err := c.Token(context.Background())
	require.NoError(t, err)
	nextEvent(t, events)

	idp.failAlways(errIdPDown)
	settle := func() { quiesce(t, c) }
	clock.AdvanceSettled(8*time.Hour+4*time.Second, settle) // the refresh point is within 3.6s of 8h; the token stays valid
	want := minB
	for i := range 8 {
		ev := nextEvent(t, events)
		require.ErrorIs(t, ev.Err, errIdPDown)
		require.Equal(t, i+1, ev.Failures)
		delay := ev.NextRetry.Sub(ev.Start.Add(ev.Duration))
		if want < maxB { // below the cap: a random part of the step
			assert.LessOrEqual(t, delay, want, "failure %d", i+1)
		} else { // at the cap: never below it, at most a quarter above
			assert.GreaterOrEqual(t, delay, maxB, "failure %d", i+1)
			assert.LessOrEqual(t, delay, maxB*5/4, "failure %d", i+1)
		}
		t.Logf("failure %d: backoff %s (bound %s)", i+1, delay, want)
		want = min(want*2, maxB)
		clock.AdvanceSettled(ev.NextRetry.Sub(clock.Now()), settle)
	}
}

func TestCacheHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	c, idp, clock, events := newTestCache(t, time.Hour, &oauthbearer.CacheOptions{Jitter: 0.0001})
	fetched, _ := pastFirstRefresh(t, c, clock, events, time.Hour)

	idp.failNext(oauthbearer.Transient(errors.New("idp: 429 too many requests"), 30*time.Second))
	clock.AdvanceSettled(fetched.Add(48*time.Minute+time.Second).Sub(clock.Now()), func() { quiesce(t, c) })
	ev := nextEvent(t, events)
	require.Error(t, ev.Err)
	assert.GreaterOrEqual(t, ev.NextRetry.Sub(ev.Start), 30*time.Second)
	fetches := idp.fetches.Load()

	clock.Set(ev.NextRetry.Add(-time.Second))
	_, err := c.Token(context.Background()) // callers must not trigger an early retry
	require.NoError(t, err)
	quiesce(t, c)
	assert.Equal(t, fetches, idp.fetches.Load(), "no request before Retry-After elapsed")

	clock.Advance(ev.NextRetry.Sub(clock.Now()))
	ev = nextEvent(t, events)
	require.NoError(t, ev.Err)
	assert.Equal(t, fetches+1, idp.fetches.Load())
}

func TestCacheWaiterCancellationDoesNotCancelSharedFetch(t *testing.T) {
	t.Parallel()
	c, idp, _, _ := newTestCache(t, time.Hour, nil)
	idp.hold()

	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	go func() { _, err := c.Token(ctx); impatient <- err }()
	patient := make(chan oauthbearer.Token, 1)
	go func() {
		tok, err := c.Token(context.Background())
		assert.NoError(t, err)
		patient <- tok
	}()
	waitStarted(t, idp)
	cancel()
	err := <-impatient
	require.ErrorIs(t, err, context.Canceled)

	idp.release()
	tok := <-patient
	require.False(t, tok.IsZero())
	idp.mu.Lock()
	defer idp.mu.Unlock()
	require.Len(t, idp.ctxErrs, 1)
	assert.NoError(t, idp.ctxErrs[0], "the shared fetch's context was not cancelled")
	assert.EqualValues(t, 1, idp.fetches.Load())
}

func TestCacheInvalidate(t *testing.T) {
	t.Parallel()
	c, idp, _, _ := newTestCache(t, time.Hour, nil)
	first, err := c.Token(context.Background())
	require.NoError(t, err)

	c.Invalidate(oauthbearer.Token{Value: "some-other-token"})
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, first.Value, tok.Value, "invalidating a token not held does nothing")

	for range 50 { // a burst of rejections of the same token
		c.Invalidate(first)
	}
	second, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, second.Value)
	c.Invalidate(first) // stale rejection
	third, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, second.Value, third.Value)
	assert.EqualValues(t, 2, idp.fetches.Load())
}

// invalidatingSource is a source that also caches and so must hear about
// rejected tokens.
type invalidatingSource struct {
	oauthbearer.TokenSource
	invalidated []string
}

func (s *invalidatingSource) Invalidate(tok oauthbearer.Token) {
	s.invalidated = append(s.invalidated, tok.Value)
}

func TestCacheInvalidateTellsTheWrappedSource(t *testing.T) {
	t.Parallel()
	n := 0
	inner := &invalidatingSource{TokenSource: oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		n++
		return oauthbearer.Token{Value: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	})}
	c, err := oauthbearer.NewCache(inner, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	first, err := c.Token(context.Background())
	require.NoError(t, err)
	c.Invalidate(oauthbearer.Token{Value: "not-held"})
	assert.Empty(t, inner.invalidated, "a token the cache does not hold is not passed on")
	c.Invalidate(first)
	c.Invalidate(first) // a second rejection of the same token: already dropped
	assert.Equal(t, []string{"tok-1"}, inner.invalidated)
	second, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-2", second.Value)
}

func TestCacheRejectsUnschedulableTokens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, tc := range map[string]struct {
		tok  oauthbearer.Token
		want string
	}{
		"empty":     {oauthbearer.Token{Expiry: now.Add(time.Hour)}, "empty token"},
		"no expiry": {oauthbearer.Token{Value: "x"}, "without an expiry"},
		"expired":   {oauthbearer.Token{Value: "x", Expiry: now.Add(-time.Minute)}, "within the safety margin"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(tc.tok), &oauthbearer.CacheOptions{Name: "static"})
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Token(context.Background())
			require.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "static")
		})
	}
}

// TestNewCacheArguments: a nil source is refused, and a cache given a
// cache returns it unless options would be dropped. The option ranges
// are TestCacheOptionsValidate's.
func TestNewCacheArguments(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{})
	_, err := oauthbearer.NewCache(nil, nil)
	require.ErrorContains(t, err, "token source is nil")

	c, err := oauthbearer.NewCache(src, nil)
	require.NoError(t, err)
	again, err := oauthbearer.NewCache(c, nil)
	require.NoError(t, err)
	assert.Same(t, c, again, "a cache never wraps a cache")
	again, err = oauthbearer.NewCache(c, &oauthbearer.CacheOptions{})
	require.NoError(t, err, "zero options are no options")
	assert.Same(t, c, again)
	// fails before NewCache checked them: the Observer was dropped
	// without a word and the cache returned unchanged.
	_, err = oauthbearer.NewCache(c, &oauthbearer.CacheOptions{Observer: nopObserver{}, Name: "orders"})
	var oe *oauthbearer.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, []string{"Name", "Observer"}, oe.Fields)
	assert.ErrorContains(t, err, "CacheOptions.Name, CacheOptions.Observer set")
	require.NoError(t, c.Close())
}

type nopObserver struct{ oauthbearer.Observer }

func TestCacheErrorsKeepTransience(t *testing.T) {
	t.Parallel()
	transient := oauthbearer.Transient(errIdPDown, 0)
	permanent := errors.New("idp: 401 unauthorized client")
	for name, tc := range map[string]struct {
		err       error
		transient bool
	}{"transient": {transient, true}, "permanent": {permanent, false}} {
		t.Run(name, func(t *testing.T) {
			c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
				return oauthbearer.Token{}, tc.err
			}), nil)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Token(context.Background())
			require.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.transient, oauthbearer.IsTransient(err))
			var temp interface{ Temporary() bool }
			assert.Equal(t, tc.transient, errors.As(err, &temp) && temp.Temporary(), "franz-go's retry check")
		})
	}
}

func TestCacheSourcePanicBecomesError(t *testing.T) {
	t.Parallel()
	c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		panic("boom")
	}), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Token(context.Background())
	require.ErrorContains(t, err, "panicked: boom")
}

func TestCacheCloseLeavesNoGoroutine(t *testing.T) {
	defer leakcheck.VerifyNone(t, leakcheck.Current())
	clock := fakeclockNew()
	idp := newIdP(clock, time.Hour)
	c, err := oauthbearer.NewCache(idp, &oauthbearer.CacheOptions{Clock: clock})
	require.NoError(t, err)
	_, err = c.Token(context.Background())
	require.NoError(t, err)

	// A refresh is in flight, blocked at the IdP, when Close is called.
	idp.hold()
	clock.Advance(50 * time.Minute)
	waitStarted(t, idp)
	waitStarted(t, idp)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	assert.Zero(t, clock.Pending(), "no timer left armed")

	_, err = c.Token(context.Background())
	require.ErrorIs(t, err, oauthbearer.ErrClosed)
}

// TestCacheIdentityProviderLoad simulates 1,000 connections that
// authenticate and re-authenticate (as franz-go does, at 95-98% of the
// session lifetime, which the broker caps at the token's remaining life)
// over 24 hours of 1-hour tokens, and counts identity-provider requests.
func TestCacheIdentityProviderLoad(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, nil)
	const conns = 1000
	const step = 10 * time.Second
	next := make([]time.Time, conns)
	for i := range next {
		next[i] = epoch.Add(time.Duration(i) * time.Second) // staggered first connects
	}
	auths := 0
	for clock.Now().Before(epoch.Add(24 * time.Hour)) {
		now := clock.Now()
		for i := range next {
			if now.Before(next[i]) {
				continue
			}
			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			auths++
			session := tok.Expiry.Sub(now)
			next[i] = now.Add(time.Duration(float64(session) * 0.95))
		}
		quiesce(t, c)
		clock.Advance(step)
	}
	fetches := idp.fetches.Load()
	t.Logf("identity-provider requests: %d for %d authentications by %d connections over 24h of 1h tokens", fetches, auths, conns)
	assert.LessOrEqual(t, fetches, int64(31))
	assert.GreaterOrEqual(t, fetches, int64(24), "tokens are refreshed, not reused past expiry")
}

func TestCacheHotPathDoesNotAllocate(t *testing.T) { // not parallel: AllocsPerRun
	c, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t", Expiry: time.Now().Add(time.Hour)}), nil)
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	_, err = c.Token(ctx)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = c.Token(ctx) }))
}
