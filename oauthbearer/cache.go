package oauthbearer

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
	"github.com/streamidentity/kafka-workload-identity/internal/optcheck"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// CacheOptions tunes a [Cache]. The zero value (or a nil pointer) gives the
// defaults documented on each field. Out-of-range values are rejected by
// [NewCache] with an error that names the field.
type CacheOptions struct {
	// Name identifies the source in log records, events and errors, such
	// as "azure managed identity". Default "token source".
	Name string

	// RefreshFraction is the fraction of a token's lifetime after which a
	// background refresh starts while the token keeps being served.
	// Default 0.8; allowed 0.5 to 1.0 (Kafka's range for
	// sasl.login.refresh.window.factor). The refresh point, jitter
	// included, never passes 90% of the lifetime nor the start of the
	// SafetyMargin, so fractions above 0.9 act as 0.9.
	RefreshFraction float64

	// Jitter is the largest fraction of the lifetime by which the refresh
	// point randomly moves either way. It is symmetric so that the mean
	// refresh interval stays at RefreshFraction: with 1-hour tokens and
	// the defaults a process makes at most 31 requests a day. Default
	// 0.02 (also what 0 means); allowed 0 to 0.25 (Kafka's range for
	// sasl.login.refresh.window.jitter). However far it moves the point,
	// the refresh never starts past 90% of the lifetime nor the start of
	// the SafetyMargin. So that processes started together do not
	// refresh together forever after, a token fetched while no valid one
	// was held (the first, or the first after an outage) refreshes at a
	// uniform point between a quarter of that point and the point itself.
	Jitter float64

	// SafetyMargin is how long before expiry a token stops being handed
	// out. Brokers cap a session's lifetime at the token's remaining life,
	// so a token handed out seconds before expiry causes a
	// re-authentication storm. The margin used is at most a tenth of the
	// token's lifetime, so short-lived tokens stay usable. Default 1m.
	SafetyMargin time.Duration

	// MaxLifetime caps the lifetime used to schedule refreshes, for
	// tokens whose expiry is far away. Default 24h.
	MaxLifetime time.Duration

	// FetchTimeout bounds each call to the wrapped source. Default 30s.
	// A source that ignores its context past the timeout is abandoned
	// after a grace of at most a second: waiting callers get the timeout
	// error, the next fetch can start, and Close returns. The abandoned
	// call keeps running in its goroutine until the source returns, so
	// the source may then be called again while it still runs.
	FetchTimeout time.Duration

	// MinBackoff and MaxBackoff bound the delay after consecutive failed
	// fetches. The step doubles from MinBackoff up to MaxBackoff; below
	// MaxBackoff the delay is a server's Retry-After (a lower bound) plus
	// a random part of the step, so caches throttled together come back
	// spread out; at the cap it is at least MaxBackoff, spread up to a
	// quarter above it. While no valid token is held and the failure is
	// transient, the cache keeps retrying on its own at this pace, so a
	// cache sends at most one request per MaxBackoff during an outage and
	// gets a token within about MaxBackoff of the provider's return. The
	// same steps (with a floor of half the step) space out fetches after
	// repeated rejections of fresh tokens (see [Cache.Invalidate]).
	// Defaults 500ms and 10s (Kafka's sasl.login.retry.backoff.max.ms).
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// Logger receives a record per refresh (debug on success, warn or
	// error on failure), never the token. Default: discard.
	Logger *slog.Logger

	// OnRefresh, if set, is called after every fetch attempt, from the
	// goroutine that ran it. It must not block for long.
	OnRefresh func(RefreshEvent)

	// Observer, if set, is told of every fetch, invalidation and
	// rejection, for metrics and traces (see [Observer]); never per
	// token handed out. Set it where the cache is built (a source
	// constructor's Cache option): NewCache given a *Cache refuses
	// options rather than drop them.
	Observer Observer

	// Clock is the time source. Default: the system clock.
	Clock Clock

	// Rand is the source of the randomness in refresh points and
	// backoff delays; with Clock, it makes a simulation reproducible.
	// The cache uses it under its lock; a source shared by several
	// caches must be safe for concurrent use. Default: a random seed.
	Rand rand.Source
}

// Cache wraps a [TokenSource] and hands out its token until shortly before
// it expires, refreshing it in the background.
//
// Handing out a held token is one atomic load and one wall-clock
// comparison: lock-free, allocation-free, and right after a system suspend
// (see [Cache.Token]). At most one fetch from the wrapped source runs at a
// time, whatever the number of callers. A timer starts a refresh at
// [CacheOptions.RefreshFraction] of the token's lifetime (give or take
// [CacheOptions.Jitter]), and so does the first call past that point when
// the timer is late; while it runs, callers keep getting the current
// token. Callers wait only when no valid token exists, and a waiter whose
// context ends returns at once without cancelling the fetch the others
// wait for.
//
// A failed refresh never discards a token that is still valid: failures
// back off exponentially, spread above a [TransientError]'s RetryAfter,
// and are retried in the background while the current token lasts, and
// after transient failures also once it is gone (at most once per
// [CacheOptions.MaxBackoff]). Call
// [Cache.Invalidate] when a server rejects a token, and [Cache.Close] when
// done.
type Cache struct {
	src     TokenSource
	name    string
	clock   Clock
	log     *slog.Logger
	onEvent func(RefreshEvent)
	obs     Observer
	kind    string

	refreshFraction, jitter float64
	margin, maxLifetime     time.Duration
	fetchTimeout            time.Duration
	minBackoff, maxBackoff  time.Duration
	rnd                     *rand.Rand // guarded by mu

	// The lock-free read path uses only cur (nil when no token is held)
	// and the wall clock: see [Cache.Token].
	cur atomic.Pointer[entry]
	// presented is the last token fetched, even once dropped, so that
	// the scrub (scrub.go) removes it from later errors.
	presented atomic.Pointer[entry]

	ctx    context.Context // cancelled by Close; parent of every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below; never held while fetching
	flight   *flight
	timer    Timer     // the next refresh or retry
	retryAt  time.Time // no fetch starts before it (backoff)
	failures int
	lastErr  error
	closed   bool
	// rejections counts consecutive rejections of young tokens: see
	// [Cache.Invalidate].
	rejections int
}

var _ TokenSource = (*Cache)(nil)
var _ Invalidator = (*Cache)(nil)

// entry is an immutable snapshot of the held token and its schedule. The
// times are wall-clock Unix nanoseconds: Go's monotonic clock stops during
// a system suspend, and time.Time comparisons use it when both sides carry
// it, so a token that expired while the machine slept would still look
// valid.
type entry struct {
	tok         Token
	fetched     int64 // when the fetch that got tok started
	refreshAt   int64
	usableUntil int64
	// due is when the fast path stops serving this entry without the
	// lock: refreshAt, then usableUntil once a refresh is under way.
	due int64
}

// flight is one scheduled or running fetch; done is closed when it ends.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
	// started is when the fetch called the source (zero while the flight
	// waits out a backoff); guarded by Cache.mu.
	started time.Time
	// probe is set, with started, for every fetch (the gate reports
	// requests to it); octx only when an observer is.
	probe *fetchProbe
	octx  context.Context
}

// NewCache returns a Cache around src. A nil opts means the defaults. If
// src is already a *Cache it is returned unchanged, because caching a cache
// only delays refreshes; the cache keeps the options it was built with, so
// options with any field set (an Observer, a Name, ...) are then an
// [*OptionError] naming them rather than silently dropped: set them where
// that cache was built (the source constructor's Cache option).
func NewCache(src TokenSource, opts *CacheOptions) (*Cache, error) {
	if c, ok := src.(*Cache); ok {
		if set := setFields(opts); len(set) > 0 {
			names := make([]string, len(set))
			for i, f := range set {
				names[i] = optcheck.Name(cacheOptions, f)
			}
			return nil, optionErrorf(set, "NewCache got a *Cache, which keeps the options it was built with, and CacheOptions with %s set, which it would ignore; pass nil options, or set them in the options of the call that built that cache (a source constructor's Cache option)", strings.Join(names, ", "))
		}
		return c, nil
	}
	if src == nil {
		return nil, errors.New("oauthbearer: NewCache: the token source is nil; pass the source to cache")
	}
	var o CacheOptions
	if opts != nil {
		o = *opts
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cache{
		src: src, name: o.Name, clock: o.Clock, log: scrubbingLogger(o.Logger), onEvent: o.OnRefresh,
		refreshFraction: o.RefreshFraction, jitter: o.Jitter,
		margin: o.SafetyMargin, maxLifetime: o.MaxLifetime, fetchTimeout: o.FetchTimeout,
		minBackoff: o.MinBackoff, maxBackoff: o.MaxBackoff, rnd: rand.New(o.Rand),
		ctx: ctx, cancel: cancel,
		obs: o.Observer, kind: sourceKind(src),
	}
	if c.obs != nil {
		c.obs.CacheOpened(c)
	}
	return c, nil
}

// Token returns the held token while it is usable. Without a usable token
// it waits for a fetch, or until ctx ends.
//
// The fast path is an atomic load and one wall-clock comparison, lock-free
// and allocation-free. Timers start refreshes on time while the process
// runs, but they run on Go's monotonic clock, which stops while the system
// is suspended (a laptop's lid closed, a VM snapshot); the wall-clock
// comparison is what guarantees that a token is never handed out past its
// usable time, whatever the timers did. Past the refresh point a call
// starts a background refresh if none runs and still gets the held token;
// past the usable time the token is dropped and the call waits for a new
// one.
//
// The returned error wraps the source's error (matchable with errors.Is
// and errors.As, and transient per [IsTransient] when the source's was);
// when ctx ends first it wraps both ctx.Err() and the last fetch failure.
func (c *Cache) Token(ctx context.Context) (Token, error) {
	if e := c.cur.Load(); e != nil && c.clock.Now().UnixNano() < e.due {
		return e.tok, nil
	}
	return c.wait(ctx)
}

// now returns the clock's time without its monotonic reading, so that
// every comparison the cache makes is by the wall clock.
func (c *Cache) now() time.Time { return c.clock.Now().Round(0) }

// unixNano is t.UnixNano, saturated for times outside its range (a token
// expiring in the year 9999).
func unixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64/int64(time.Second) - 1
	switch s := t.Unix(); {
	case s > maxSec:
		return math.MaxInt64
	case s < -maxSec:
		return math.MinInt64
	}
	return t.UnixNano()
}

// wait is the slow path: the fast path found no token, or one past its
// refresh point.
func (c *Cache) wait(ctx context.Context) (Token, error) {
	c.mu.Lock()
	now := c.now()
	if e := c.cur.Load(); e != nil {
		if n := unixNano(now); n < e.due {
			c.mu.Unlock() // stored while this call waited for the lock
			return e.tok, nil
		} else if n < e.usableUntil {
			if c.flight == nil && !c.closed && !now.Before(c.retryAt) {
				// Refresh due by the wall clock and its timer has not
				// fired (a suspend): refresh now, in the background. A
				// pending backoff keeps its retry timer.
				c.startLocked(0)
			}
			if e.due != e.usableUntil {
				// Keep the other callers on the fast path until the
				// refresh replaces the entry or the token stops being
				// usable.
				next := *e
				next.due = e.usableUntil
				c.cur.CompareAndSwap(e, &next)
			}
			c.mu.Unlock()
			return e.tok, nil
		}
		c.cur.CompareAndSwap(e, nil) // no longer usable
	}
	if c.closed {
		c.mu.Unlock()
		return Token{}, ErrClosed
	}
	f := c.flight
	if f == nil && c.lastErr != nil && !IsTransient(c.lastErr) && now.Before(c.retryAt) {
		// The last fetch failed in a way that waiting will not heal (bad
		// configuration, no identity reachable): say so at once instead
		// of holding the caller until the backoff ends and the same
		// failure repeats. The backoff still spaces out the requests to
		// the identity provider: the first call after it fetches again.
		err := fmt.Errorf("oauthbearer: %s: %w (the next attempt is in %s)", c.name, c.lastErr, c.retryAt.Sub(now).Round(time.Millisecond))
		c.mu.Unlock()
		return Token{}, err
	}
	if f == nil {
		f = c.startLocked(c.retryAt.Sub(now))
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		if c.obs != nil && f.octx != nil {
			c.obs.Waited(ctx, f.octx)
		}
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, c.gaveUp(ctx, f)
	}
}

// gaveUp is the error of a caller whose context ended while it waited for
// flight f: it carries the most recent fetch failure, or, when none has
// failed yet, what is still running, so the Kafka client's error says
// more than "context deadline exceeded".
func (c *Cache) gaveUp(ctx context.Context, f *flight) error {
	c.mu.Lock()
	last, failures, retryAt := c.lastErr, c.failures, c.retryAt
	started := f.started
	c.mu.Unlock()
	now := c.now()
	switch {
	case last != nil && failures > 1:
		return fmt.Errorf("oauthbearer: %s: gave up waiting for a token (%w) after %d failed fetches, retried with backoff (next at %s); the last fetch failed: %w",
			c.name, ctx.Err(), failures, retryAt.UTC().Format(time.RFC3339), last)
	case last != nil:
		return fmt.Errorf("oauthbearer: %s: gave up waiting for a token (%w); the last fetch failed: %w", c.name, ctx.Err(), last)
	case !started.IsZero():
		return fmt.Errorf("oauthbearer: %s: gave up waiting for a token (%w): the first fetch has been running for %s without an answer "+
			"(the source may be retrying an unreachable or slow identity provider; each fetch is bounded by CacheOptions.FetchTimeout, %s); %s",
			c.name, ctx.Err(), now.Sub(started).Round(time.Millisecond), c.fetchTimeout, troubleshooting.See("gave-up-waiting-for-a-token"))
	}
	return fmt.Errorf("oauthbearer: %s: gave up waiting for a token: %w", c.name, ctx.Err())
}

// startLocked schedules a fetch after delay. c.mu must be held.
func (c *Cache) startLocked(delay time.Duration) *flight {
	f := &flight{done: make(chan struct{})}
	c.flight = f
	c.stopTimerLocked()
	c.wg.Add(1)
	go c.run(f, delay)
	return f
}

func (c *Cache) run(f *flight, delay time.Duration) {
	defer c.wg.Done()
	if delay > 0 {
		wake := make(chan struct{})
		t := c.clock.AfterFunc(delay, func() { close(wake) })
		select {
		case <-wake:
		case <-c.ctx.Done():
			t.Stop()
			c.finish(f, c.now(), Token{}, ErrClosed)
			return
		}
	}
	start := c.now()
	octx := c.observeStart(f, start)
	c.mu.Lock()
	f.started = start
	if c.obs != nil {
		f.octx = octx
	}
	c.mu.Unlock()
	tok, err := c.fetch(octx)
	c.finish(f, start, tok, err)
}

// abandonGrace is how long a fetch waits, after its timeout, for a source
// that ignores its context before abandoning it.
const abandonGrace = time.Second

// fetch calls the source with the fetch timeout, turning a panic into an
// error so that a faulty source cannot crash the process from a
// background goroutine.
//
// The source runs in a goroutine of its own, so that a source that ignores
// its context (a blocking read, a library without cancellation) cannot pin
// the cache: once the timeout (or Close) has ended the context and a short
// grace has passed, the call is abandoned. Its goroutine is not waited for
// by Close, and its result, if it ever returns, is discarded.
func (c *Cache) fetch(parent context.Context) (tok Token, err error) {
	ctx, cancel := context.WithTimeout(parent, c.fetchTimeout)
	defer cancel()
	ctx, rec := withRecorder(ctx)
	type result struct {
		tok Token
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned call never blocks
	go func() {
		var r result
		defer func() { done <- r }()
		defer func() {
			if p := recover(); p != nil {
				// Not %v of p: a panic value may hold a token or a secret.
				r = result{err: fmt.Errorf("oauthbearer: %s panicked: %s", c.name, describePanic(p))}
			}
		}()
		r.tok, r.err = c.src.Token(ctx)
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		grace := time.NewTimer(min(abandonGrace, c.fetchTimeout))
		select {
		case r = <-done:
		case <-grace.C:
			r.err = Transient(fmt.Errorf("oauthbearer: %s did not answer within %s and ignored the cancellation; the call was abandoned: %w",
				c.name, c.fetchTimeout, ctx.Err()), 0)
		}
		grace.Stop()
	}
	tok, err = r.tok, r.err
	if err != nil && ctx.Err() != nil && c.ctx.Err() == nil && !IsTransient(err) {
		// Our own timeout ended the fetch: worth retrying.
		err = Transient(fmt.Errorf("oauthbearer: %s did not answer within %s: %w", c.name, c.fetchTimeout, err), 0)
	}
	return tok, c.scrub(err, rec, tok)
}

// check rejects tokens the cache cannot schedule or must not hand out.
func (c *Cache) check(tok Token, start, now time.Time) error {
	// Checked once here, so adapters need not re-check a cache's tokens:
	// a bad value could inject SASL fields or header lines.
	switch syntaxErr := ValidateToken(c.name, tok.Value); {
	case tok.Value == "":
		return fmt.Errorf("oauthbearer: %s returned an empty token", c.name)
	case syntaxErr != nil:
		return syntaxErr
	case tok.Expiry.IsZero():
		return fmt.Errorf("oauthbearer: %s returned a token without an expiry; the source must set Token.Expiry (from the JWT exp claim or the expires_in field)", c.name)
	case !now.Before(tok.Expiry.Add(-c.marginFor(tok.Expiry.Sub(start)))):
		return Transient(fmt.Errorf("oauthbearer: %s returned a token that expires at %s, within the safety margin (now %s); check the identity provider's token lifetime and this machine's clock",
			c.name, tok.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), 0)
	}
	return nil
}

func (c *Cache) marginFor(lifetime time.Duration) time.Duration {
	return min(c.margin, lifetime/10)
}

// newEntry schedules a fresh token. Lifetime is measured from the fetch's
// start, which errs on the early side.
// spread is set for a token fetched while no valid one was held (see
// spreadRefresh). c.mu must be held (c.rnd).
func (c *Cache) newEntry(tok Token, start time.Time, spread bool) *entry {
	lifetime := tok.Expiry.Sub(start)
	sched := min(lifetime, c.maxLifetime)
	// The refresh point never passes 90% of the lifetime, which is where
	// the largest safety margin begins.
	refresh := time.Duration(float64(sched) * min(c.refreshFraction+c.jitter*(2*c.rnd.Float64()-1), 0.9))
	if spread {
		refresh = c.spreadRefresh(refresh)
	}
	e := &entry{
		tok:         tok,
		fetched:     unixNano(start),
		refreshAt:   unixNano(start.Add(refresh)),
		usableUntil: unixNano(tok.Expiry.Add(-c.marginFor(sched))),
	}
	e.refreshAt = min(e.refreshAt, e.usableUntil)
	e.due = e.refreshAt
	return e
}

// backoff returns the delay after the n-th consecutive failure: the step
// doubles from minBackoff up to maxBackoff, spread above the server's
// Retry-After, and at the cap never below it (internal/backoff). c.mu
// must be held (c.rnd).
func (c *Cache) backoff(n int, retryAfter time.Duration) time.Duration {
	return backoff.Delay(c.rnd, n, c.minBackoff, c.maxBackoff, retryAfter)
}

func (c *Cache) finish(f *flight, start time.Time, tok Token, err error) {
	now := c.now()
	if err == nil {
		tok = clampToJWTExp(tok)
		if err = c.check(tok, start, now); err != nil {
			err = &unusableTokenError{err}
		}
	}
	ev := RefreshEvent{Source: c.name, Start: start, Duration: now.Sub(start), Err: err}

	c.mu.Lock()
	prev := c.cur.Load()
	ev.Background = prev != nil && unixNano(start) < prev.usableUntil
	if err == nil {
		e := c.newEntry(tok, start, !ev.Background)
		c.failures, c.lastErr = 0, nil
		c.retryAt = time.Time{}
		if !c.closed {
			c.cur.Store(e)
			c.presented.Store(e)
			c.armLocked(time.Duration(e.refreshAt - unixNano(now)))
		}
		f.tok = tok
		ev.Expiry = tok.Expiry
	} else {
		c.failures++
		c.lastErr = err
		next := now.Add(c.backoff(c.failures, retryAfter(err)))
		c.retryAt = next
		if c.probeLocked(prev, next, err) {
			c.armLocked(next.Sub(now))
		}
		f.err = fmt.Errorf("oauthbearer: %s: %w", c.name, err)
		ev.Failures, ev.NextRetry = c.failures, next
	}
	c.flight = nil
	c.mu.Unlock()
	// The observer records the fetch before its waiters are released, so
	// that a caller who got the token then reads the metrics sees it.
	c.observeEnd(f, &ev)
	close(f.done)

	c.report(ev, prev)
}

func (c *Cache) report(ev RefreshEvent, prev *entry) {
	switch {
	case ev.Err == nil:
		c.log.Debug("oauthbearer: token refreshed", "source", c.name, "expiry", ev.Expiry, "took", ev.Duration, "background", ev.Background)
	case ev.Background:
		c.log.Warn("oauthbearer: token refresh failed; still serving the current token", "source", c.name,
			"error", ev.Err, "failures", ev.Failures, "current_expiry", prev.tok.Expiry, "next_retry", ev.NextRetry)
	default:
		c.log.Error("oauthbearer: token fetch failed and no valid token is held", "source", c.name,
			"error", ev.Err, "failures", ev.Failures, "next_retry", ev.NextRetry)
	}
	if c.onEvent != nil {
		c.onEvent(ev)
	}
}

// armLocked (re)arms the refresh timer. c.mu must be held.
func (c *Cache) armLocked(d time.Duration) {
	c.stopTimerLocked()
	c.timer = c.clock.AfterFunc(max(d, 0), c.onTimer)
}

func (c *Cache) stopTimerLocked() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

func (c *Cache) onTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.flight != nil {
		return
	}
	c.timer = nil
	c.startLocked(c.retryAt.Sub(c.now()))
}

// Invalidate drops rejected if it is the token being handed out, so that
// the next [Cache.Token] fetches a fresh one. Call it when a server rejects
// the token (a broker's invalid_token, a Schema Registry 401). Tokens are
// compared in constant time. Invalidating a token that was already
// replaced does nothing, so a burst of rejections of one token causes one
// fetch. When the token is dropped and the wrapped source implements
// [Invalidator], it is told too.
//
// Rejections of fresh tokens are rate-limited. A server that rejects
// every token (a wrong audience, a broker whose key set lags behind the
// identity provider) would otherwise turn each of its rejections into an
// identity-provider request: each retry gets a fresh token, which is
// rejected again. So the cache counts consecutive rejections of tokens
// younger than a minute (or [CacheOptions.MaxBackoff], if longer): the
// first still refreshes at once (a key rotated just after the fetch), and
// each further one makes the next fetch wait as a failure does, doubling
// from MinBackoff up to that minute with jitter, so a fleet whose brokers
// refuse every token asks its identity provider about once a minute per
// cache. Callers without a token wait for that fetch or until their
// context ends. A rejection of a token held for at least that minute
// resets the count and refreshes at once, so the common case,
// a long-held token refused after the broker rotated its keys, is never
// delayed.
func (c *Cache) Invalidate(rejected Token) {
	e := c.cur.Load()
	if e == nil || subtle.ConstantTimeCompare([]byte(e.tok.Value), []byte(rejected.Value)) != 1 {
		return
	}
	c.mu.Lock()
	if !c.cur.CompareAndSwap(e, nil) {
		c.mu.Unlock()
		return
	}
	now := c.now()
	window := max(c.maxBackoff, backoff.RejectionMax)
	if unixNano(now)-e.fetched < int64(window) {
		c.rejections++
	} else {
		c.rejections = 1
	}
	var delay time.Duration
	if c.rejections > 1 {
		delay = backoff.Spaced(c.rnd, c.rejections-1, c.minBackoff, window)
		if next := now.Add(delay); next.After(c.retryAt) {
			c.retryAt = next
		}
	}
	n := c.rejections
	c.mu.Unlock()
	if c.obs != nil {
		c.obs.Invalidated(InvalidationEvent{Source: c.name, Kind: c.kind, Rejections: n, NextFetchDelay: delay})
	}
	c.log.Info("oauthbearer: token invalidated after a server rejected it; the next use fetches a new one",
		"source", c.name, "expiry", e.tok.Expiry, "consecutive_rejections", n, "next_fetch_delay", delay)
	// The wrapped source may cache too (azidentity's managed-identity
	// cache is process-wide): tell it, so the next fetch is fresh.
	Invalidate(c.src, rejected)
}

// Close stops background refreshes, drops the held token, cancels a fetch
// in progress and waits for it to return (a source that ignores the
// cancellation is abandoned after a grace of at most a second, and its
// goroutine may outlive Close), then closes the wrapped source if it is an
// [io.Closer]. After Close, Token returns [ErrClosed]: close
// the Kafka client first. Close is idempotent.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.stopTimerLocked()
	c.cur.Store(nil)
	c.presented.Store(nil)
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
	if c.obs != nil {
		c.obs.CacheClosed(c)
	}
	if closer, ok := c.src.(io.Closer); ok {
		return closer.Close()
	}
	return nil
}

// Format prints the cache's name only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (c *Cache) Format(f fmt.State, _ rune) {
	if c == nil {
		_, _ = io.WriteString(f, "oauthbearer.Cache(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "oauthbearer.Cache(%q)", c.name)
}

// LogValue logs the cache's name only.
func (c *Cache) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("oauthbearer.Cache(%q)", c.name))
}
