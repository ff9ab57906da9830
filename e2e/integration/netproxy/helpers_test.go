package netproxy

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
)

// benchCAPEM is the certificate every TLS emulator presents (httptest's,
// for 127.0.0.1 and *.example.com): the bench's private CA.
func benchCAPEM() []byte {
	s := httptest.NewTLSServer(http.NotFoundHandler())
	defer s.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// privateCAClient is the idpclient client that trusts the emulators'
// certificate (httptest's, which every TLS emulator presents) and takes
// the proxy from the environment.
func privateCAClient(t *testing.T) *http.Client {
	hc, err := idpclient.New(&idpclient.Options{RootCAPEM: benchCAPEM()})
	require.NoError(t, err)
	return hc
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
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

// tlsFront serves TLS (httptest's certificate) on 127.0.0.1 and relays
// the plain connections to target; it returns its host:port.
func tlsFront(t *testing.T, target string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.StartTLS()
	cfg := &tls.Config{Certificates: s.TLS.Certificates}
	s.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	relay(t, ln, u.Host)
	return ln.Addr().String()
}

func relay(t *testing.T, ln net.Listener, target string) *atomic.Int64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	closed := false
	track := func(cs ...net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return false
		}
		conns = append(conns, cs...)
		return true
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("relay %s: %v", ln.Addr(), err)
				}
				return
			}
			n.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				t.Errorf("relay to %s: %v", target, err)
				_ = c.Close()
				continue
			}
			if !track(c, up) {
				_ = c.Close()
				_ = up.Close()
				return
			}
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}
			wg.Go(func() { pipe(up, c) })
			wg.Go(func() { pipe(c, up) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &n
}
