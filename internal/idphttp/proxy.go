package idphttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// Proxies. Remote identity endpoints (Entra ID, STS, Google, an OAuth
// server) are reached through HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as
// http.ProxyFromEnvironment reads them, or through an explicit proxy
// ([ProxyURL]). Metadata servers (Azure IMDS, the GCE metadata server,
// AWS IMDS) never are: both Microsoft and Google document that their
// metadata endpoints do not support a proxy, and a proxy would see the
// managed identity's tokens. A metadata client's transport therefore
// bypasses the proxy for link-local addresses and the metadata hosts the
// source checked, whatever the environment says. No request that is not
// https, and none to a loopback host, is ever proxied (as
// http.ProxyFromEnvironment does for loopback): the gate admits plain
// http only to loopback and metadata hosts.

// ErrInvalidProxy is matched with errors.Is by errors about a proxy
// setting: a value that is not a proxy URL, or credentials for a proxy
// that would receive them in clear text.
var ErrInvalidProxy = errors.New("invalid proxy setting")

// proxySettingError is an error about a proxy setting: its text names
// the setting and quotes the value (without user info), and it matches
// [ErrInvalidProxy].
type proxySettingError struct{ msg string }

func (e *proxySettingError) Error() string        { return e.msg }
func (e *proxySettingError) Is(target error) bool { return target == ErrInvalidProxy }

// ProxyURL returns a proxy function for an explicit proxy (http:// or
// https://, with optional user info for Basic proxy authentication),
// which overrides the environment. setting names it in errors, as the
// user wrote it ("idpclient.Options.Proxy"). User info is refused on an
// http:// proxy that is not on this host: Basic proxy credentials would
// cross the network in clear text. The function proxies only what
// [EnvironmentProxy] would: https requests to hosts that are neither
// loopback nor metadata servers.
func ProxyURL(setting, raw string) (func(*http.Request) (*url.URL, error), error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &proxySettingError{fmt.Sprintf("%s is %q, which is not a proxy URL; use http://host:port or https://host:port (with user:password@ for Basic proxy authentication)",
			setting, srvtext.URL(raw))}
	}
	if err := checkProxyCredentials(setting, u); err != nil {
		return nil, err
	}
	return guardProxy(http.ProxyURL(u), setting, nil), nil
}

// EnvironmentProxy is http.ProxyFromEnvironment (HTTPS_PROXY, NO_PROXY)
// for https requests to hosts that are neither loopback nor metadata
// servers; other requests are never proxied. A proxy URL from the
// environment with user info over plain http to another host is an
// error naming the variable, returned for the request: the request is
// not sent.
func EnvironmentProxy(req *http.Request) (*url.URL, error) {
	return envProxy(req)
}

var envProxy = guardProxy(http.ProxyFromEnvironment, "", nil)

// checkProxyCredentials refuses user info on an http:// proxy that is not
// on this host.
func checkProxyCredentials(setting string, u *url.URL) error {
	if u.User == nil || !strings.EqualFold(u.Scheme, "http") || IsLoopback(normHost(u.Hostname())) {
		return nil
	}
	return &proxySettingError{fmt.Sprintf("%s is %q with a user name and password over plain http: the proxy credentials would cross the network in clear text; use https:// for a proxy that needs credentials (or a proxy on this host)",
		setting, srvtext.URL(u.String()))}
}

// envProxyName names the environment variable http.ProxyFromEnvironment
// read for an https request.
func envProxyName() string {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy"} {
		if os.Getenv(k) != "" {
			return k
		}
	}
	return "HTTPS_PROXY"
}

// guardProxy wraps proxy so that a request that is not https, or is to a
// loopback host, a link-local address, metadata.google.internal or one
// of hosts (the metadata hosts a source checked), never goes through a
// proxy: the gate admits plain http only to loopback and metadata hosts,
// and neither may be proxied (a proxy would see a client secret sent to
// a local test server in clear text, or a managed identity's tokens).
// The proxy URL proxy returns is checked as [ProxyURL] checks its value;
// setting names its origin (empty: the environment).
func guardProxy(proxy func(*http.Request) (*url.URL, error), setting string, hosts map[string]bool) func(*http.Request) (*url.URL, error) {
	if proxy == nil {
		return nil
	}
	return func(req *http.Request) (*url.URL, error) {
		if req.URL == nil || !strings.EqualFold(req.URL.Scheme, "https") || direct(req.URL.Hostname(), hosts) {
			return nil, nil
		}
		u, err := proxy(req)
		if err != nil || u == nil {
			return u, err
		}
		name := setting
		if name == "" {
			name = envProxyName()
		}
		if err := checkProxyCredentials(name, u); err != nil {
			return nil, err
		}
		return u, nil
	}
}

// direct reports whether host is never proxied: loopback, link-local, a
// metadata host.
func direct(host string, hosts map[string]bool) bool {
	h := normHost(host)
	return IsLoopback(h) || IsLinkLocal(h) || hosts[h] || h == "metadata.google.internal"
}

// gateBase returns base with its proxy guarded ([guardProxy]): a copy
// when base is an *http.Transport or a [NewTLSTransport] with a proxy
// (the caller's is not modified). A metadata client's transport of
// another type (a caller's wrapper such as otelhttp's, whose proxy the
// gate cannot see) sends its requests to link-local addresses and to
// the non-loopback metadata hosts the source checked through a
// transport of its own without a proxy, so that metadata servers are
// never proxied whatever the wrapper holds. (Refusing such a client at
// construction would break every instrumented caller for no gain: a
// metadata request needs nothing the wrapper adds, being plain http to
// a link-local server.) A loopback metadata host is a local emulator,
// which http.ProxyFromEnvironment never proxies; it keeps the caller's
// transport.
func gateBase(base http.RoundTripper, p policy) http.RoundTripper {
	switch t := base.(type) {
	case *http.Transport:
		if t.Proxy != nil {
			c := t.Clone()
			c.Proxy = guardProxy(t.Proxy, "the HTTPClient's proxy", p.hosts)
			return c
		}
		return base
	case *tlsTransport:
		// NewTLSTransport guarded its proxy already; a copy (which loads
		// its roots and key again) only adds a metadata client's hosts.
		if t.proxy != nil && len(p.hosts) > 0 {
			return &tlsTransport{o: t.o, proxy: guardProxy(t.proxy, "the HTTPClient's proxy", p.hosts)}
		}
		return base
	}
	if _, ok := base.(noMetadataProxy); p.metadata && !ok {
		d := Transport()
		d.Proxy = nil
		return &metadataDirect{base: base, direct: d, hosts: p.hosts}
	}
	return base
}

// noMetadataProxy is implemented by a transport that declares it sends
// metadata requests without a proxy: the emulators' rewriting
// transports (idptest) and in-process fakes, which stand for the
// network in tests. The gate keeps such a transport for metadata
// requests; any other transport it does not recognise is bypassed for
// them.
type noMetadataProxy interface{ NoMetadataProxy() }

// metadataDirect sends requests for metadata servers (other than a
// loopback emulator) through direct, a transport without a proxy, and
// the rest through base.
type metadataDirect struct {
	base   http.RoundTripper
	direct *http.Transport
	hosts  map[string]bool
}

func (m *metadataDirect) RoundTrip(req *http.Request) (*http.Response, error) {
	h := normHost(req.URL.Hostname())
	if !IsLoopback(h) && direct(h, m.hosts) {
		return m.direct.RoundTrip(req)
	}
	return m.base.RoundTrip(req)
}

// CloseIdleConnections closes both transports' idle connections.
func (m *metadataDirect) CloseIdleConnections() {
	m.direct.CloseIdleConnections()
	if c, ok := m.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ProxyError reports a request that the proxy refused (an answer other
// than 200 to CONNECT, such as 407 Proxy Authentication Required) or
// that could not reach the proxy. It names the proxy without its user
// info.
type ProxyError struct {
	// Proxy is the proxy's scheme and host.
	Proxy string
	// Endpoint is the host the request was for.
	Endpoint string
	// Status is the proxy's answer ("407 Proxy Authentication
	// Required"), empty when the proxy could not be reached.
	Status string
	// Err is the underlying error.
	Err error
}

// Error names the proxy and the endpoint and says what to check.
func (e *ProxyError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("the proxy %s cannot be reached (%v) for a request to %s; check HTTPS_PROXY/HTTP_PROXY (or the proxy option), or list the host in NO_PROXY if it must be reached directly", e.Proxy, e.Err, e.Endpoint)
	}
	hint := "check that the proxy allows CONNECT to this host"
	if strings.HasPrefix(e.Status, "407") {
		hint = "the proxy requires authentication: give it as user:password@ in the proxy URL (HTTPS_PROXY or the proxy option)"
	}
	return fmt.Sprintf("the proxy %s refused the request to %s: %s; %s", e.Proxy, e.Endpoint, e.Status, hint)
}

// Unwrap returns Err.
func (e *ProxyError) Unwrap() error { return e.Err }

// explainProxy turns a transport error caused by the proxy into a
// [*ProxyError]; other errors are returned as they are.
func explainProxy(base http.RoundTripper, req *http.Request, err error) error {
	var proxy func(*http.Request) (*url.URL, error)
	switch t := base.(type) {
	case *http.Transport:
		proxy = t.Proxy
	case *tlsTransport:
		proxy = t.proxy
	}
	if proxy == nil {
		return err
	}
	pu, perr := proxy(req)
	if perr != nil || pu == nil {
		return err
	}
	e := &ProxyError{Proxy: Origin(pu), Endpoint: req.URL.Host, Err: err}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "proxyconnect" {
		return e
	}
	// Go reports a CONNECT answer other than 200 as an error holding the
	// status text alone.
	msg := err.Error()
	for _, code := range []int{http.StatusProxyAuthRequired, http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusBadRequest, http.StatusNotFound} {
		if strings.HasSuffix(msg, http.StatusText(code)) {
			e.Status = fmt.Sprintf("%d %s", code, http.StatusText(code))
			return e
		}
	}
	return err
}
