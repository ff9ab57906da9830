//go:build linux

package spiffetest_test

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// When the signing keys' JWKS server cannot listen (here: no file
// descriptor is left) and the TB's Fatalf returns, NewWorkloadAPI reports
// it once and returns nil, leaving nothing registered on the TB. It runs
// in a child process, since the limit on descriptors is the process's.
// Failed before: it panicked on the nil issuer.
func TestNewWorkloadAPIReportsAnIssuerThatCannotStart(t *testing.T) {
	if os.Getenv("SPIFFETEST_NO_FDS") != "1" {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "SPIFFETEST_NO_FDS=1")
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
	tb := &faketb.Recorder{}
	w := spiffetest.NewWorkloadAPI(tb, nil)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	assert.Nil(t, w)
	assert.Regexp(t, `^spiffetest: idptest: .*too many open files`, tb.Fatal)
	assert.Empty(t, tb.Cleanups)
}
