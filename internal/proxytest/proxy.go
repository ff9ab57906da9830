// Package proxytest runs a forward proxy for tests: it tunnels CONNECT
// requests to the idptest emulators and records which targets passed and
// which it refused, to prove a client sends (or does not send) identity
// traffic through HTTPS_PROXY.
package proxytest

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// ProxyOptions configures a [Proxy].
type ProxyOptions struct {
	// BasicAuth, when set ("user:password"), is the Proxy-Authorization a
	// CONNECT must carry; others get 407 Proxy Authentication Required.
	BasicAuth string
}

// Proxy is a forward proxy for tests that tunnels CONNECT requests (what
// an HTTPS client sends through HTTPS_PROXY) and records the targets that
// passed and those it refused. Plain-HTTP proxy requests are answered 405:
// identity endpoints are https. It listens on 127.0.0.1.
//
// The credential gate never proxies a loopback host (as
// http.ProxyFromEnvironment does not), so a test reaches a loopback
// emulator through the proxy under the name [ProxyHost], which httptest's
// certificates carry and which the proxy dials at 127.0.0.1: use
// [ThroughProxy] on the emulator's URL.
type Proxy struct {
	// URL is the proxy's URL, http://127.0.0.1:port.
	URL string

	hs   *httptest.Server
	auth string

	mu       sync.Mutex
	passed   []string
	refused  []string
	conns    []net.Conn
	wg       sync.WaitGroup
	closed   bool
	closeOne sync.Once
}

// ProxyHost is the name under which a [Proxy] reaches a loopback
// emulator: the name httptest's certificates carry besides the loopback
// addresses, dialled at 127.0.0.1 by the proxy and never resolved by the
// client (a proxied request's target is resolved by the proxy).
const ProxyHost = "example.com"

// ThroughProxy returns raw (an emulator's URL on 127.0.0.1) with its
// host replaced by [ProxyHost], so that the gate sends it through a
// [Proxy] rather than directly.
func ThroughProxy(raw string) string {
	return strings.Replace(raw, "//127.0.0.1:", "//"+ProxyHost+":", 1)
}

// NewProxy starts a proxy closed when t's test ends.
func NewProxy(t idptest.TB, opts *ProxyOptions) *Proxy {
	t.Helper()
	p := &Proxy{}
	if opts != nil && opts.BasicAuth != "" {
		p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.BasicAuth))
	}
	p.hs = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.hs.URL
	t.Cleanup(p.Close)
	return p
}

// Passed returns the CONNECT targets (host:port) tunnelled so far.
func (p *Proxy) Passed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.passed)
}

// Refused returns the targets refused (407, or a plain-HTTP request).
func (p *Proxy) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.refused)
}

// Close stops the proxy, closes the tunnels and waits for them.
func (p *Proxy) Close() {
	p.closeOne.Do(func() {
		p.mu.Lock()
		p.closed = true
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.hs.CloseClientConnections()
		p.hs.Close()
		p.wg.Wait()
	})
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		p.record(&p.refused, r.Host)
		http.Error(w, "this proxy tunnels CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.auth != "" && r.Header.Get("Proxy-Authorization") != p.auth {
		p.record(&p.refused, r.Host)
		w.Header().Set("Proxy-Authenticate", `Basic realm="test proxy"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	target := r.Host
	if h, port, err := net.SplitHostPort(r.Host); err == nil && strings.EqualFold(h, ProxyHost) {
		target = net.JoinHostPort("127.0.0.1", port)
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		http.Error(w, "cannot reach "+r.Host, http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	down, _, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = up.Close()
		_ = down.Close()
		return
	}
	p.passed = append(p.passed, r.Host)
	p.conns = append(p.conns, up, down)
	p.wg.Add(2)
	p.mu.Unlock()
	_, _ = down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	go pipe(up, down)
	go pipe(down, up)
}

func (p *Proxy) record(list *[]string, host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*list = append(*list, host)
}
