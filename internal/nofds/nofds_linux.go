package nofds

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childEnv names, in the child process, the test it runs.
const childEnv = "KWI_NOFDS_TEST"

// Run runs f with no file descriptor left, and reports whether the caller
// is in the process that ran it. The limit on descriptors is the
// process's, so Run starts the test binary again with only t's test, marks
// t parallel, fails t unless the child passes, and returns false; in the
// child it calls f with RLIMIT_NOFILE at zero, restores the limit, and
// returns true: the assertions after Run run there.
func Run(t *testing.T, f func()) bool {
	t.Helper()
	if os.Getenv(childEnv) != t.Name() {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "--- PASS: "+t.Name(), "the child ran the test")
		return false
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
	f()
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	return true
}
