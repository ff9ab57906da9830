package idptest

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
