package idphttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Proxies. Remote identity endpoints (Entra ID, STS, Google, an OAuth
// server) are reached through HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as
// http.ProxyFromEnvironment reads them, or through an explicit proxy
// ([ProxyURL]). Metadata servers (Azure IMDS, the GCE metadata server,
// AWS IMDS) never are: both Microsoft and Google document that their
// metadata endpoints do not support a proxy, and a proxy would see the
// managed identity's tokens. A metadata client's transport therefore
// bypasses the proxy for link-local addresses and the metadata hosts the
// source checked, whatever the environment says.

// ProxyURL returns a proxy function for an explicit proxy (http:// or
// https://, with optional user info for Basic proxy authentication),
// which overrides the environment. setting names it in errors.
func ProxyURL(setting, raw string) (func(*http.Request) (*url.URL, error), error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%w: %s is not a proxy URL; use http://host:port (or https://), with user:password@ for Basic proxy authentication", ErrTLSOption, setting)
	}
	return http.ProxyURL(u), nil
}

// bypassForMetadata wraps a transport's proxy function so that requests
// to link-local addresses and to hosts never go through a proxy.
func bypassForMetadata(proxy func(*http.Request) (*url.URL, error), hosts map[string]bool) func(*http.Request) (*url.URL, error) {
	if proxy == nil {
		return nil
	}
	return func(req *http.Request) (*url.URL, error) {
		h := normHost(req.URL.Hostname())
		if IsLinkLocal(h) || hosts[h] || h == "metadata.google.internal" {
			return nil, nil
		}
		return proxy(req)
	}
}

// metadataBase returns base with its proxy bypassed for metadata
// requests: a copy when base is an *http.Transport (the caller's is not
// modified).
func metadataBase(base http.RoundTripper, hosts map[string]bool) http.RoundTripper {
	switch t := base.(type) {
	case *http.Transport:
		if t.Proxy != nil {
			c := t.Clone()
			c.Proxy = bypassForMetadata(t.Proxy, hosts)
			return c
		}
	case *tlsTransport:
		if t.proxy != nil {
			return &tlsTransport{o: t.o, proxy: bypassForMetadata(t.proxy, hosts)}
		}
	}
	return base
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
