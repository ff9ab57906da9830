package oauthbearer_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const floodCallers = 10_000

// outageSource is an identity provider in an outage: every fetch fails
// (transiently) once gate is open. It counts fetches.
type outageSource struct {
	gate    chan struct{}
	calls   atomic.Int64
	started chan struct{} // closed by the first fetch
	once    sync.Once
	ok      atomic.Bool // when set, fetches succeed with a token living ttl
	clock   oauthbearer.Clock
}

var errOutage = errors.New("identity provider outage")

func (s *outageSource) Token(ctx context.Context) (oauthbearer.Token, error) {
	s.calls.Add(1)
	if s.ok.Load() {
		return oauthbearer.Token{Value: "primed-token", Expiry: s.clock.Now().Add(time.Hour)}, nil
	}
	s.once.Do(func() { close(s.started) })
	select {
	case <-s.gate:
	case <-ctx.Done():
		return oauthbearer.Token{}, ctx.Err()
	}
	return oauthbearer.Token{}, oauthbearer.Transient(errOutage, 0)
}

// settledGoroutines waits, goleak-style, for the goroutine count to fall
// to at most want, and returns the last count.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 500 && n > want; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFloodDuringOutage runs 10,000 concurrent Token callers against a
// cache whose source is down, with and without a still-valid token. The
// source sees a bounded number of fetches (single flight), every caller
// gets the valid token or an error, the cache itself adds at most a couple
// of goroutines, and everything is released afterwards.
//
// Not parallel: it counts the process's goroutines.
func TestFloodDuringOutage(t *testing.T) {
	t.Run("no token held", func(t *testing.T) {
		baseG := runtime.NumGoroutine()
		baseHeap := heapAlloc()
		clk := fakeclock.New(time.Now())
		src := &outageSource{gate: make(chan struct{}), started: make(chan struct{}), clock: clk}
		// Callers that arrive after the first failure start a fetch that
		// waits for its backoff on the fake clock, which the loop below
		// advances.
		c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Clock: clk})
		require.NoError(t, err)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var gotErr, gotTok, outage, entered atomic.Int64
		for range floodCallers {
			wg.Go(func() {
				entered.Add(1)
				tok, err := c.Token(ctx)
				switch {
				case err != nil:
					gotErr.Add(1)
					if errors.Is(err, errOutage) {
						outage.Add(1)
					}
				case tok.Value != "":
					gotTok.Add(1)
				}
			})
		}
		<-src.started
		// Wait until the callers are in (none can finish before the gate
		// opens), then look at the process.
		for i := 0; i < 2000 && entered.Load() < floodCallers; i++ {
			time.Sleep(time.Millisecond)
		}
		parkedG := runtime.NumGoroutine()
		parkedHeap := heapAlloc()
		close(src.gate)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		advances := 0
		for waiting := true; waiting; {
			select {
			case <-done:
				waiting = false
			case <-time.After(5 * time.Millisecond):
				clk.Advance(time.Minute) // the backoff of a straggler's fetch
				advances++
			}
		}
		require.NoError(t, c.Close())

		// One fetch for everyone parked, plus at most one per wave of
		// stragglers that arrived after it failed, plus the cache's own
		// probes (the failure is transient): at most one per MaxBackoff
		// (10s) of each minute the clock was advanced.
		assert.LessOrEqual(t, src.calls.Load(), int64(10+6*advances), "10,000 callers share a handful of fetches")
		assert.Equal(t, int64(floodCallers), gotErr.Load(), "every caller got an error")
		assert.Zero(t, gotTok.Load())
		assert.Equal(t, int64(floodCallers), outage.Load(), "every caller sees the source's error itself")
		assert.LessOrEqual(t, parkedG, baseG+floodCallers+2, "the cache adds at most a fetch goroutine, not one per caller")
		perCaller := float64(int64(parkedHeap)-int64(baseHeap)) / floodCallers
		assert.Less(t, perCaller, 1024.0, "heap per parked caller")
		endG := settledGoroutines(baseG)
		assert.LessOrEqual(t, endG, baseG, "no goroutine outlives the flood and Close")
		t.Logf("no token: %d callers, %d fetch, goroutines base %d / parked %d / after %d, heap per parked caller %.0f B, %d saw the outage error",
			floodCallers, src.calls.Load(), baseG, parkedG, endG, perCaller, outage.Load())
	})

	t.Run("valid token held", func(t *testing.T) {
		baseG := runtime.NumGoroutine()
		clk := fakeclock.New(time.Now())
		src := &outageSource{gate: make(chan struct{}), started: make(chan struct{}), clock: clk}
		src.ok.Store(true)
		events := make(chan oauthbearer.RefreshEvent, 16)
		c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Clock: clk, OnRefresh: func(ev oauthbearer.RefreshEvent) { events <- ev }})
		require.NoError(t, err)
		primed, err := c.Token(context.Background())
		require.NoError(t, err)
		<-events

		// The outage starts; the refresh at 80% of the token's life runs
		// and hangs in the source while the flood arrives.
		src.ok.Store(false)
		clk.Advance(50 * time.Minute)
		<-src.started

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var same, other atomic.Int64
		for range floodCallers {
			wg.Go(func() {
				tok, err := c.Token(ctx)
				if err == nil && tok.Value == primed.Value {
					same.Add(1)
				} else {
					other.Add(1)
				}
			})
		}
		wg.Wait()
		close(src.gate)
		ev := <-events
		require.ErrorIs(t, ev.Err, errOutage)
		assert.True(t, ev.Background, "the failed refresh ran while the token was served")
		tok, err := c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, primed.Value, tok.Value, "still served after the failed refresh")
		require.NoError(t, c.Close())

		assert.Equal(t, int64(floodCallers), same.Load(), "every caller got the still-valid token")
		assert.Zero(t, other.Load())
		assert.Equal(t, int64(2), src.calls.Load(), "the prime and one refresh, whatever the callers")
		endG := settledGoroutines(baseG)
		assert.LessOrEqual(t, endG, baseG)
		t.Logf("valid token: %d callers all served the held token, %d fetches, goroutines base %d / after %d", floodCallers, src.calls.Load(), baseG, endG)
	})
}
