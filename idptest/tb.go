package idptest

import "time"

// TB is the part of testing.TB the NewX constructors use: they start the
// emulator, register its Close with Cleanup, and report bad options or a
// listen failure with Fatalf (then return nil, should Fatalf return).
// testing.T and testing.B satisfy it. It is an interface of this
// package, not testing.TB, so that idptest does not import package
// testing: a program that runs the emulators (such as an example's
// offline mode) implements it without linking the test framework.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// tokenLifetime is the rule of every emulator's Lifetime option: zero is
// the emulator's default def; any other value is used as given, so that a
// negative one issues tokens already expired by that much (exp = iat +
// Lifetime), a test's way to get an expired token from the real flow.
func tokenLifetime(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// newEmulator is what every NewX constructor does: it starts the
// emulator with a copy of opts (nil: the zero options), reports a failure with t.Fatalf (returning nil,
// should Fatalf return) and closes the emulator when t's test ends.
func newEmulator[O any, E interface{ Close() }](t TB, opts *O, start func(O) (E, error)) E {
	t.Helper()
	var o O
	if opts != nil {
		o = *opts
	}
	e, err := start(o)
	if err != nil {
		t.Fatalf("idptest: %v", err)
		var none E
		return none
	}
	t.Cleanup(e.Close)
	return e
}
