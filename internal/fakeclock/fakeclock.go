// Package fakeclock is a manually advanced clock for tests of code that
// takes an oauthbearer.Clock.
package fakeclock

import (
	"sort"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Clock is a fake [oauthbearer.Clock]. Timers fire, each in its own
// goroutine as with time.AfterFunc, when Advance moves the time past them.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
	wg     sync.WaitGroup
}

var _ oauthbearer.Clock = (*Clock)(nil)

type timer struct {
	c       *Clock
	at      time.Time
	f       func()
	stopped bool
}

// New returns a clock set to start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run once the clock has advanced by d.
func (c *Clock) AfterFunc(d time.Duration, f func()) oauthbearer.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			t.stopped = true
			return true
		}
	}
	return false
}

// Pending returns how many timers have not fired or been stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the time forward by d, firing every timer due on the way
// in time order, and waits for the fired functions to return.
func (c *Clock) Advance(d time.Duration) { c.AdvanceSettled(d, nil) }

// AdvanceSettled is Advance, calling settle after each fired timer (with
// the clock stopped at that timer's time) so that work the timer started
// can finish before time moves on.
func (c *Clock) AdvanceSettled(d time.Duration, settle func()) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			break
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.wg.Add(1)
		c.mu.Unlock()
		go func() { defer c.wg.Done(); t.f() }()
		c.wg.Wait()
		if settle != nil {
			settle()
		}
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Jump simulates a system suspend of length d: the wall time moves forward
// by d but no timer fires, and every pending timer is still due the same
// duration from now, because Go's timers run on the monotonic clock, which
// does not advance while the system sleeps.
func (c *Clock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		t.at = t.at.Add(d)
	}
}

// Set moves the clock to t (forward only) as Advance does.
func (c *Clock) Set(t time.Time) { c.Advance(t.Sub(c.Now())) }
