package idptest

// TB is the part of testing.TB the NewX constructors use. It is an
// interface of this package, not testing.TB, so that emu (and the public
// bench built on it) does not import package testing: programs that run
// the emulators, such as the examples' offline mode, must not link it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}
