package oauthbearer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeIdP is a scriptable identity provider: each fetch returns a fresh
// token living ttl on the fake clock, or the queued error; fetches can be
// held until released.
type fakeIdP struct {
	clock *fakeclock.Clock
	ttl   time.Duration

	fetches atomic.Int64
	mu      sync.Mutex
	errs    []error
	always  error
	gate    chan struct{} // when non-nil, fetches block until it is closed
	ctxErrs []error       // ctx.Err() observed after each fetch
	started chan struct{}
}

func newIdP(clock *fakeclock.Clock, ttl time.Duration) *fakeIdP {
	return &fakeIdP{clock: clock, ttl: ttl, started: make(chan struct{}, 1024)}
}

func (p *fakeIdP) hold() {
	p.mu.Lock()
	p.gate = make(chan struct{})
	p.mu.Unlock()
}

func (p *fakeIdP) release() {
	p.mu.Lock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
	p.mu.Unlock()
}

func (p *fakeIdP) failNext(errs ...error) {
	p.mu.Lock()
	p.errs = append(p.errs, errs...)
	p.mu.Unlock()
}

func (p *fakeIdP) failAlways(err error) {
	p.mu.Lock()
	p.always = err
	p.mu.Unlock()
}

func (p *fakeIdP) Token(ctx context.Context) (oauthbearer.Token, error) {
	n := p.fetches.Add(1)
	p.started <- struct{}{}
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return oauthbearer.Token{}, ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctxErrs = append(p.ctxErrs, ctx.Err())
	if len(p.errs) > 0 {
		err := p.errs[0]
		p.errs = p.errs[1:]
		return oauthbearer.Token{}, err
	}
	if p.always != nil {
		return oauthbearer.Token{}, p.always
	}
	return oauthbearer.Token{
		Value:  fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.token-%d.c2lnbmF0dXJl", n),
		Expiry: p.clock.Now().Add(p.ttl),
	}, nil
}

// newTestCache returns a cache on a fake clock and its fake IdP.
func newTestCache(t *testing.T, ttl time.Duration, opts *oauthbearer.CacheOptions) (*oauthbearer.Cache, *fakeIdP, *fakeclock.Clock, chan oauthbearer.RefreshEvent) {
	t.Helper()
	clock := fakeclock.New(epoch)
	idp := newIdP(clock, ttl)
	events := make(chan oauthbearer.RefreshEvent, 4096)
	var o oauthbearer.CacheOptions
	if opts != nil {
		o = *opts
	}
	o.Clock = clock
	o.OnRefresh = func(ev oauthbearer.RefreshEvent) { events <- ev }
	c, err := oauthbearer.NewCache(idp, &o)
	require.NoError(t, err)
	t.Cleanup(func() { idp.release(); _ = c.Close() })
	return c, idp, clock, events
}

// nextEvent waits for the next refresh event (real-time bound only
// against a hang; no timing is asserted).
func nextEvent(t *testing.T, events chan oauthbearer.RefreshEvent) oauthbearer.RefreshEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh event")
		return oauthbearer.RefreshEvent{}
	}
}

// waitStarted waits until the IdP saw a new fetch.
func waitStarted(t *testing.T, p *fakeIdP) {
	t.Helper()
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no fetch started")
	}
}

// quiesce waits until the cache has no fetch scheduled or running.
func quiesce(t *testing.T, c *oauthbearer.Cache) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Fetching() {
		if time.Now().After(deadline) {
			t.Fatal("cache still fetching")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

var errIdPDown = errors.New("idp: 503 service unavailable")

func fakeclockNew() *fakeclock.Clock { return fakeclock.New(epoch) }

// pastFirstRefresh fetches the first token, advances the clock past its
// refresh point, which is spread over [20%, 82%] of its life (see
// spreadRefresh), and takes that refresh's event: from then on refreshes
// come at 80% ± Jitter of each token's life.
// It returns when the second token was fetched: its fetch's start and the
// token.
func pastFirstRefresh(t *testing.T, c *oauthbearer.Cache, clock *fakeclock.Clock, events chan oauthbearer.RefreshEvent, ttl time.Duration) (time.Time, oauthbearer.Token) {
	t.Helper()
	_, err := c.Token(context.Background())
	require.NoError(t, err)
	nextEvent(t, events)
	clock.AdvanceSettled(ttl*83/100, func() { quiesce(t, c) })
	ev := nextEvent(t, events)
	require.NoError(t, ev.Err)
	require.True(t, ev.Background)
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	return ev.Start, tok
}
