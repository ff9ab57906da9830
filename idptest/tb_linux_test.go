//go:build linux

package idptest

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConstructorsFatalWhenTheyCannotListen: an emulator that cannot
// listen (here: no file descriptor is left) is reported through
// t.Fatalf, as TB's doc says, and the constructor returns nil having
// registered nothing. It runs in a child process, since the limit on
// descriptors is the process's. Failed before: httptest panicked.
func TestConstructorsFatalWhenTheyCannotListen(t *testing.T) {
	if os.Getenv("IDPTEST_NO_FDS") != "1" {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "IDPTEST_NO_FDS=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "--- PASS: "+t.Name(), "the child ran the test")
		return
	}
	// The runtime's poller needs a descriptor of its own: start it first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	none := lim
	none.Cur = 0
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &none))
	var tb fakeTB
	iss := NewIssuer(&tb, nil)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	assert.Nil(t, iss)
	assert.Regexp(t, `^idptest: could not listen on 127\.0\.0\.1: .*too many open files`, tb.fatal)
	assert.Empty(t, tb.cleanups)
}
