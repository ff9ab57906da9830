//go:build e2e && linux

package netproxy

import (
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
)

// privateCAClient is the idpclient client that trusts the emulators'
// certificate (httptest's, which every TLS emulator presents) and takes
// the proxy from the environment.
func privateCAClient(t *testing.T) *http.Client {
	hc, err := idpclient.New(&idpclient.Options{RootCAPEM: benchCAPEM()})
	require.NoError(t, err)
	return hc
}

// forward accepts connections on addr and relays each to target's host,
// as if the emulator listened on addr; it counts the connections.
func forward(t *testing.T, addr, target string) *atomic.Int64 {
	u, err := url.Parse(target)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	return relay(t, ln, u.Host)
}
