// Package obstest drives a [oauthbearer.Cache] with an observer through
// the events the observability plugins record, on a fake clock, against
// a local identity provider reached through the module's own HTTP client
// (internal/idphttp), so that request hooks run as they do for the real
// sources. The plugins' tests use it and assert what they recorded.
package obstest

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Epoch is the fake clock's start.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TTL is the lifetime of the tokens the identity provider issues.
const TTL = time.Hour

// Kind is the source kind of the cache Env builds.
const Kind = "obstest idp"

// Env is a cache named "orders" (kind [Kind]) around a source that asks a
// local HTTP identity provider for each token.
type Env struct {
	t      *testing.T
	Clock  *fakeclock.Clock
	Cache  *oauthbearer.Cache
	Server *httptest.Server
	Events chan oauthbearer.RefreshEvent

	mu     sync.Mutex
	status []int // queued reply statuses; empty: 200 with a token
	n      int
}

// New starts the provider and the cache observed by obs.
func New(t *testing.T, obs oauthbearer.Observer) *Env {
	t.Helper()
	e := &Env{t: t, Clock: fakeclock.New(Epoch), Events: make(chan oauthbearer.RefreshEvent, 64)}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	hc := idphttp.Client(nil, "obstest")
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Server.URL+"/token", nil)
		if err != nil {
			return oauthbearer.Token{}, err
		}
		resp, err := idphttp.Do(hc, "obstest", req)
		if err != nil {
			return oauthbearer.Token{}, oauthbearer.Transient(err, 0)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err := &statusError{resp.StatusCode}
			if resp.StatusCode >= 500 {
				return oauthbearer.Token{}, oauthbearer.Transient(err, 0)
			}
			return oauthbearer.Token{}, err
		}
		var r struct{ AccessToken string }
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return oauthbearer.Token{}, err
		}
		return oauthbearer.Token{Value: r.AccessToken, Expiry: e.Clock.Now().Add(TTL)}, nil
	})
	o := cacheopts.WithName(&oauthbearer.CacheOptions{
		Name: "orders", Clock: e.Clock, Observer: obs, Jitter: 1e-9, // the refresh point moves by microseconds only
		Rand:      TopDraw{}, // the first token's refresh at 80% too, not spread below it
		OnRefresh: func(ev oauthbearer.RefreshEvent) { e.Events <- ev },
	}, Kind)
	c, err := oauthbearer.NewCache(cacheopts.Kind(src, Kind), o)
	require.NoError(t, err)
	e.Cache = c
	t.Cleanup(func() { _ = c.Close(); e.Server.Close() })
	return e
}

type statusError struct{ code int }

func (e *statusError) Error() string {
	return "the identity provider answered " + http.StatusText(e.code)
}

func (e *Env) serve(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	e.n++
	n := e.n
	status := http.StatusOK
	if len(e.status) > 0 {
		status, e.status = e.status[0], e.status[1:]
	}
	e.mu.Unlock()
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"AccessToken": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" + string(rune('a'+n%26))})
}

// AdvanceToRefresh moves the clock just past the refresh point (80% of
// the lifetime), letting the background refresh the timer starts end
// before time moves on, and returns its event.
func (e *Env) AdvanceToRefresh() oauthbearer.RefreshEvent {
	e.t.Helper()
	var ev oauthbearer.RefreshEvent
	fired := false
	e.Clock.AdvanceSettled(TTL*8/10+time.Millisecond, func() {
		if !fired {
			fired = true
			ev = e.Next()
		}
	})
	require.True(e.t, fired, "no refresh timer fired")
	return ev
}

// FailNext makes the next replies answer with these HTTP statuses.
func (e *Env) FailNext(status ...int) {
	e.mu.Lock()
	e.status = append(e.status, status...)
	e.mu.Unlock()
}

// Token gets a token; the first call waits for a fetch.
func (e *Env) Token() (oauthbearer.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.Cache.Token(ctx)
}

// Next waits for the next fetch to end and returns its event.
func (e *Env) Next() oauthbearer.RefreshEvent {
	e.t.Helper()
	select {
	case ev := <-e.Events:
		return ev
	case <-time.After(10 * time.Second):
		e.t.Fatal("no fetch ended")
		return oauthbearer.RefreshEvent{}
	}
}

// Script runs the sequence every plugin test asserts, and returns the
// token served at its end (ctx is the first caller's):
//  1. a first fetch that a caller waits for (success);
//  2. at 80% of the lifetime, a background refresh that fails with 503
//     (http_5xx), then its retry after the backoff, which fails with 401
//     (refused);
//  3. the next retry succeeds in the background;
//  4. a broker rejects the token (ReportRejection by "franzsasl" with
//     "invalid_token"), which is invalidated; the next call waits for a
//     fetch that succeeds.
func (e *Env) Script(ctx context.Context) oauthbearer.Token {
	e.t.Helper()
	_, err := e.Cache.Token(ctx)
	require.NoError(e.t, err)
	require.NoError(e.t, e.Next().Err)

	e.FailNext(http.StatusServiceUnavailable, http.StatusUnauthorized)
	ev := e.AdvanceToRefresh()
	require.Equal(e.t, oauthbearer.ErrorTypeHTTP5xx, ev.ErrorType)
	require.True(e.t, ev.Background)
	e.Clock.Advance(ev.NextRetry.Sub(e.Clock.Now()))
	ev = e.Next()
	require.Equal(e.t, oauthbearer.ErrorTypeRefused, ev.ErrorType)
	require.Equal(e.t, 2, ev.Failures)
	e.Clock.Advance(ev.NextRetry.Sub(e.Clock.Now()))
	ev = e.Next()
	require.NoError(e.t, ev.Err)
	require.True(e.t, ev.Background)

	tok, err := e.Token()
	require.NoError(e.t, err)
	oauthbearer.ReportRejection(e.Cache, "franzsasl", "invalid_token")
	e.Cache.Invalidate(tok)
	tok, err = e.Token()
	require.NoError(e.t, err)
	require.NoError(e.t, e.Next().Err)
	return tok
}

// Rejections is an [oauthbearer.Observer] that keeps the rejections and
// invalidations it is told of and ignores the rest: for the tests of the
// packages that report them (embed it to record the rest too).
type Rejections struct {
	mu          sync.Mutex
	rejected    []oauthbearer.RejectionEvent
	invalidated []oauthbearer.InvalidationEvent
}

// Rejections returns the rejections so far.
func (r *Rejections) Rejections() []oauthbearer.RejectionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]oauthbearer.RejectionEvent(nil), r.rejected...)
}

// Invalidations returns how many invalidations were reported.
func (r *Rejections) Invalidations() int {
	return len(r.InvalidationEvents())
}

// InvalidationEvents returns the invalidations so far.
func (r *Rejections) InvalidationEvents() []oauthbearer.InvalidationEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]oauthbearer.InvalidationEvent(nil), r.invalidated...)
}

// NewRejectionsCache returns a cache named name whose source always
// serves a token valid for an hour, observed by a new [Rejections]; the
// cache is closed when t ends.
func NewRejectionsCache(t *testing.T, name string) (*oauthbearer.Cache, *Rejections) {
	t.Helper()
	obs := &Rejections{}
	c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	}), &oauthbearer.CacheOptions{Name: name, Observer: obs})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, obs
}

// CacheOpened implements [oauthbearer.Observer]; it ignores the open.
func (r *Rejections) CacheOpened(*oauthbearer.Cache) {}

// CacheClosed implements [oauthbearer.Observer]; it ignores the close.
func (r *Rejections) CacheClosed(*oauthbearer.Cache) {}

// FetchStarted implements [oauthbearer.Observer]; it returns ctx.
func (r *Rejections) FetchStarted(ctx context.Context, _ oauthbearer.FetchEvent) context.Context {
	return ctx
}

// FetchEnded implements [oauthbearer.Observer]; it ignores the fetch.
func (r *Rejections) FetchEnded(context.Context, oauthbearer.RefreshEvent) {}

// Waited implements [oauthbearer.Observer]; it ignores the wait.
func (r *Rejections) Waited(_, _ context.Context) {}

// Invalidated implements [oauthbearer.Observer]: it keeps ev for
// [Rejections.Invalidations] and [Rejections.InvalidationEvents].
func (r *Rejections) Invalidated(ev oauthbearer.InvalidationEvent) {
	r.mu.Lock()
	r.invalidated = append(r.invalidated, ev)
	r.mu.Unlock()
}

// Rejected implements [oauthbearer.Observer]: it keeps ev for
// [Rejections.Rejections].
func (r *Rejections) Rejected(ev oauthbearer.RejectionEvent) {
	r.mu.Lock()
	r.rejected = append(r.rejected, ev)
	r.mu.Unlock()
}

// TopDraw is a rand.Source (for [oauthbearer.CacheOptions.Rand]) whose
// every draw is the largest: with a tiny Jitter it pins the first token's
// refresh, which the cache spreads below 80% for a token fetched while
// none was held, to 80% of its life, where a test injects its faults;
// backoff delays take the top of their range (never below a Retry-After).
type TopDraw struct{}

// Uint64 returns the largest draw.
func (TopDraw) Uint64() uint64 { return math.MaxUint64 }
