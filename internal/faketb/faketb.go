// Package faketb holds implementations of idptest.TB (Helper, Fatalf,
// Cleanup) for code that has no *testing.T, or that checks what a
// constructor does with its TB: the Examples of the packages whose
// constructors take one (an Example function gets no *testing.T), and
// the tests of those constructors' failure path. For tests only; a
// program's own TB (examples/internal/offline) turns Fatalf into its
// error instead.
package faketb

import "fmt"

// Example stands in for the *testing.T an Example function has none of:
// Fatalf panics with the message (the Example then fails with it), and
// Close runs what Cleanup registered, last first, as a test's end does.
// Defer Close.
type Example struct{ cleanups []func() }

// Helper does nothing.
func (*Example) Helper() {}

// Fatalf panics with the formatted message.
func (*Example) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Cleanup registers f for Close.
func (e *Example) Cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

// Close runs the registered functions, last first, once.
func (e *Example) Close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

// Recorder records what a constructor passes to Fatalf and returns, as a
// program's TB may, so that a test can check the message and that
// nothing was left to clean up.
type Recorder struct {
	// Fatal is the last message passed to Fatalf ("" if none).
	Fatal string
	// Cleanups are the functions passed to Cleanup, in order.
	Cleanups []func()
}

// Helper does nothing.
func (*Recorder) Helper() {}

// Fatalf records the formatted message.
func (r *Recorder) Fatalf(format string, args ...any) { r.Fatal = fmt.Sprintf(format, args...) }

// Cleanup records f.
func (r *Recorder) Cleanup(f func()) { r.Cleanups = append(r.Cleanups, f) }
