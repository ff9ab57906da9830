package offline

import "fmt"

// stack is the idptest.TB of an offline run: the examples are programs,
// with no *testing.T, and must not link package testing.
//
//   - Fatalf, which an emulator's constructor calls when it cannot start
//     (bad options, no port to listen on), panics with a startFailure;
//     [stack.start] recovers it and returns it as the error of Start. An
//     emulator that called Fatalf later, outside start, would end the
//     program with that panic and its message.
//   - Cleanup registers a function that [stack.close] runs, last
//     registered first, as a test's end runs its cleanups: Env.Close
//     stops the emulators and restores what the run changed.
type stack struct{ cleanups []func() }

// startFailure is what Fatalf panics with.
type startFailure struct{ err error }

func (*stack) Helper() {}

func (*stack) Fatalf(format string, args ...any) {
	panic(startFailure{fmt.Errorf(format, args...)})
}

func (s *stack) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

// close runs the cleanups, last first; it may be called more than once.
func (s *stack) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}

// start runs fn, which starts emulators with s as their TB, and returns
// its error or the message a constructor passed to Fatalf. On error it
// closes whatever fn had started. Any other panic is not the emulators':
// it closes and panics again.
func (s *stack) start(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(startFailure)
			s.close()
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	if err = fn(); err != nil {
		s.close()
	}
	return err
}
