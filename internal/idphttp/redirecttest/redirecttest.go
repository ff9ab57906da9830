// Package redirecttest is the test bench of the redirect attack on token
// requests: a token endpoint that answers with a 3xx to a URL of the
// attacker's, traps that record whatever reaches that URL, and an HTTP
// client that reaches made-up host names (idp.test, attacker.test) on
// 127.0.0.1. Every server binds 127.0.0.1 only.
package redirecttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Made-up host names the bench's client maps to 127.0.0.1: "not loopback"
// as far as a URL check can tell.
const (
	IdPHost  = "idp.test"
	TrapHost = "attacker.test"
)

// Request is what a trap received.
type Request struct {
	Method, Host, Path string
	Header             http.Header
	Body               string
}

// Bench holds the traps, the certificate every TLS server of the bench
// uses (valid for the made-up names and 127.0.0.1) and the routes of its
// client.
type Bench struct {
	httpTrap, httpsTrap *httptest.Server
	cert                tls.Certificate
	roots               *x509.CertPool

	mu     sync.Mutex
	got    []Request
	routes map[string]string // host:port dialled -> 127.0.0.1:port
}

// New starts the traps (plain http and https); they close when t ends.
func New(t testing.TB) *Bench {
	t.Helper()
	b := &Bench{routes: map[string]string{}}
	b.cert, b.roots = selfSigned(t)
	trap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		b.mu.Lock()
		b.got = append(b.got, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
		b.mu.Unlock()
		// What an attacker would answer: a token of its choosing.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"attacker-token","token_type":"Bearer","expires_in":3600}`)
	})
	b.httpTrap = b.Serve(t, trap, false)
	b.httpsTrap = b.Serve(t, trap, true)
	return b
}

// Serve starts h on 127.0.0.1 (with the bench's certificate when tlsOn);
// it closes when t ends.
func (b *Bench) Serve(t testing.TB, h http.Handler, tlsOn bool) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	if tlsOn {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{b.cert}, MinVersion: tls.VersionTLS12}
		s.StartTLS()
	} else {
		s.Start()
	}
	require.Contains(t, s.URL, "://127.0.0.1:", "the bench listens on loopback only")
	t.Cleanup(s.Close)
	return s
}

// TrapURL is the trap's URL for scheme "http" or "https" on host (such as
// TrapHost, or IdPHost for a redirect that changes only the scheme and
// port), with a query an error must never quote.
func (b *Bench) TrapURL(scheme, host string) string {
	return scheme + "://" + b.TrapOrigin(scheme, host) + "/steal?token=never-quote-this-query"
}

// TrapOrigin is the trap's host:port for scheme on host, as a redirect
// error names it.
func (b *Bench) TrapOrigin(scheme, host string) string {
	s := b.httpTrap
	if scheme == "https" {
		s = b.httpsTrap
	}
	return host + ":" + port(s.URL)
}

// URLAt is s's URL with host in place of 127.0.0.1 ("https://idp.test:port").
func URLAt(s *httptest.Server, host string) string {
	return strings.Replace(s.URL, "127.0.0.1", host, 1)
}

// LoopbackTrapURL is the plain-http trap's URL on 127.0.0.1, for clients
// that cannot resolve made-up names (the sources' default clients).
func (b *Bench) LoopbackTrapURL() string { return b.httpTrap.URL + "/steal" }

// Received returns what the traps received so far.
func (b *Bench) Received() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.got...)
}

// Route makes the bench's client dial to (such as "169.254.169.254:80")
// reach the server s instead.
func (b *Bench) Route(to string, s *httptest.Server) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.routes[to] = strings.TrimPrefix(strings.TrimPrefix(s.URL, "https://"), "http://")
}

// Transport dials every *.test name on 127.0.0.1 (same port) and the
// routes set with [Bench.Route], trusts the bench's certificate and keeps
// no idle connections.
func (b *Bench) Transport() *http.Transport {
	var d net.Dialer
	return &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: b.roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			b.mu.Lock()
			to, ok := b.routes[addr]
			b.mu.Unlock()
			switch {
			case ok:
				addr = to
			case strings.HasSuffix(host, ".test"):
				addr = net.JoinHostPort("127.0.0.1", p)
			case host != "127.0.0.1":
				return nil, errors.New("redirecttest: refusing to dial " + addr + ": the bench reaches loopback only")
			}
			return d.DialContext(ctx, network, addr)
		},
	}
}

// Client is a caller-supplied client as a user would write it: default
// redirect policy, over [Bench.Transport].
func (b *Bench) Client() *http.Client { return &http.Client{Transport: b.Transport()} }

// Redirect answers every request for which match reports true (nil: every
// request) with status and a Location of to; others go to next (nil: 404).
func Redirect(status int, to string, match func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match == nil || match(r) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Location", to)
			w.WriteHeader(status)
			return
		}
		if next == nil {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CheckRefused asserts what every source must do when its token endpoint
// redirects: the traps received nothing, and err matches
// oauthbearer.ErrRedirectRefused, is not transient, names the endpoint
// (endpointPart) and the Location's host and quotes none of secrets nor
// the Location's query.
func (b *Bench) CheckRefused(t testing.TB, err error, endpointPart, locationScheme, locationHost string, secrets ...string) {
	t.Helper()
	assert.Empty(t, b.Received(), "the redirect target received the request")
	require.Error(t, err)
	assert.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
	assert.False(t, oauthbearer.IsTransient(err), "a refused redirect is permanent: %v", err)
	msg := err.Error()
	assert.Contains(t, msg, endpointPart, "the error names the endpoint")
	assert.Contains(t, msg, b.TrapOrigin(locationScheme, locationHost), "the error names the Location's host")
	assert.NotContains(t, msg, "never-quote-this-query")
	for _, s := range secrets {
		if s != "" {
			assert.NotContains(t, msg, s, "the error quotes a credential")
		}
	}
}

func port(rawURL string) string {
	u, _ := url.Parse(rawURL)
	return u.Port()
}

// selfSigned makes a certificate for the bench's names and 127.0.0.1.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redirecttest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{IdPHost, TrapHost},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
