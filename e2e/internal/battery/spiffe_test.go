package battery

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// The spiffe entry: the Workload API is gRPC on a local socket, served by
// the module's emulator (spiffetest), which is as strict as SPIRE's agent.

// spiffeAgent starts a Workload API emulator for the cell.
func spiffeAgent(t *testing.T) *spiffetest.WorkloadAPI {
	w := spiffetest.NewWorkloadAPI(t, nil)
	return w
}

func spiffeNew(e *env, addr string) (source, error) {
	return spiffe.New(&spiffe.Options{Audience: "kafka", Address: addr, Cache: e.co})
}

// spiffeBlocked is a source whose fetch hangs in the agent (the
// emulator's Hang fault). The agent is reached through a socket relay
// that closes arrived when the source connects: the emulator has no
// arrival signal, and gRPC dials at the first call.
func spiffeBlocked(t *testing.T, e *env) (source, <-chan struct{}, error) {
	w := spiffeAgent(t)
	w.FailNext(1, spiffetest.Fault{Hang: true})
	relay := filepath.Join(t.TempDir(), "relay.sock")
	ln, err := net.Listen("unix", relay)
	require.NoError(t, err)
	arrived := make(chan struct{})
	var (
		once  sync.Once
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			once.Do(func() { close(arrived) })
			up, err := net.Dial("unix", strings.TrimPrefix(w.Address, "unix://"))
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	src, err := spiffeNew(e, "unix://"+relay)
	return src, arrived, err
}

// spiffeEchoCodes are the agent's failures whose text the source quotes.
var spiffeEchoCodes = []codes.Code{codes.Unavailable, codes.PermissionDenied, codes.Canceled, codes.DeadlineExceeded,
	codes.InvalidArgument, codes.Unimplemented, codes.Internal, codes.Unknown}

// spiffeEcho is an agent that fails the fetch with code, its message
// quoting an SVID it issued (a real one, fetched first by another
// source), as a broken or hostile agent might.
func spiffeEcho(code codes.Code) agentCase {
	return agentCase{name: "an agent's " + code.String() + " quoting an SVID", build: func(t *testing.T, e *env) (source, error) {
		w := spiffeAgent(t)
		first, err := spiffeNew(e, w.Address)
		require.NoError(t, err)
		tok, err := first.Token(e.ctx)
		require.NoError(t, err)
		require.NoError(t, first.(io.Closer).Close())
		e.c.Secret("an SVID the agent issued", tok.Value)
		w.FailNext(1, spiffetest.Fault{Code: code, Message: "agent failure; cached svid=" + tok.Value + "\r\nAuthorization: Bearer " + tok.Value})
		return spiffeNew(e, w.Address)
	}}
}

// spiffeUnlistened is a unix socket file nobody listens on.
func spiffeUnlistened(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	return p
}
