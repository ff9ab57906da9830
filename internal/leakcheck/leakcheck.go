// Package leakcheck fails a test when goroutines it started are still
// running after it ends: the module's "no goroutine outlives Close" rule.
//
// It does what go.uber.org/goleak does for this repository's tests, on the
// standard library alone: a test-only requirement of a library module is
// listed in that module's go.mod and so reaches every user's module graph
// (go list -m all), and the library modules take no dependency that their
// users do not need.
//
// [Returns] guards a test against a call that never returns, and
// [Allocated] measures the bytes a call allocates, for the bounded-work
// tests.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Snapshot is the set of goroutines running at one moment, by ID.
type Snapshot map[uint64]bool

// Current returns the goroutines running now; pass it to [VerifyNone] to
// ignore them, for a test that runs beside goroutines it did not start.
func Current() Snapshot {
	s := Snapshot{}
	for _, g := range goroutines() {
		s[g.id] = true
	}
	return s
}

// VerifyNone fails t if goroutines other than those in before (nil: none)
// and the testing package's own are still running, after giving them up
// to 5 seconds to end. ignoreTop names functions (as in a stack trace,
// "pkg.Func" or "pkg.(*T).Method") whose goroutines are not counted when
// they are at the top of the stack or anywhere in it.
func VerifyNone(t testing.TB, before Snapshot, ignore ...string) {
	t.Helper()
	if leaked := wait(before, ignore); len(leaked) > 0 {
		t.Errorf("leakcheck: %d goroutine(s) still running:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// VerifyTestMain runs the package's tests and then fails the run if
// goroutines other than the testing package's are left. Use it as
// func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }.
func VerifyTestMain(m *testing.M, ignore ...string) {
	code := m.Run()
	if code == 0 {
		if leaked := wait(nil, ignore); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) still running after the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

type goroutine struct {
	id    uint64
	state string
	stack string // the whole block, for the report
	funcs []string
}

func wait(before Snapshot, ignore []string) []string {
	deadline := time.Now().Add(5 * time.Second)
	delay := time.Millisecond
	for {
		var leaked []string
		for _, g := range goroutines()[1:] { // [0] is this goroutine
			if !before[g.id] && !ignorable(g, ignore) {
				leaked = append(leaked, g.stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// ignorable reports goroutines that the testing package, os/signal and
// cgo keep running, and those the caller names.
func ignorable(g goroutine, ignore []string) bool {
	if len(g.funcs) == 0 {
		return true
	}
	switch g.funcs[0] {
	case "testing.RunTests", "testing.(*T).Run", "testing.(*T).Parallel", "testing.runFuzzing", "testing.runFuzzTests":
		if strings.HasPrefix(g.state, "chan receive") {
			return true
		}
	case "os/signal.signal_recv", "os/signal.loop":
		return true
	}
	for _, f := range g.funcs {
		if f == "runtime.ensureSigM" || (f == "runtime.goexit" && strings.HasPrefix(g.state, "syscall")) {
			return true
		}
		for _, name := range ignore {
			if f == name {
				return true
			}
		}
	}
	return false
}

// goroutines parses runtime.Stack's dump of all goroutines, the caller's
// first.
func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for _, block := range strings.Split(strings.TrimSpace(string(buf)), "\n\n") {
		lines := strings.Split(block, "\n")
		// "goroutine 18 [chan receive, 2 minutes]:"
		head, ok := strings.CutPrefix(lines[0], "goroutine ")
		if !ok {
			continue
		}
		idText, state, _ := strings.Cut(head, " [")
		id, err := strconv.ParseUint(idText, 10, 64)
		if err != nil {
			continue
		}
		g := goroutine{id: id, state: strings.TrimSuffix(state, "]:"), stack: block}
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") {
				continue
			}
			if i := strings.LastIndex(l, "("); i > 0 {
				l = l[:i]
			}
			g.funcs = append(g.funcs, l)
		}
		out = append(out, g)
	}
	return out
}

// Returns runs f and returns its result, failing t if f is still blocked
// after a generous bound (10 seconds): a guard against a hang, not a
// timing assertion. what names the call in the failure.
func Returns[T any](t testing.TB, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still blocked after 10s", what)
		var zero T
		return zero
	}
}

// Allocated returns the bytes f allocates (counted process-wide: the test
// must not run in parallel with others).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
