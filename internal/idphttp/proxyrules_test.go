package idphttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingProxy is a plain-http forward proxy that counts the requests
// it receives and answers each 200 without forwarding it: whatever
// reaches it has been handed to a proxy.
func recordingProxy(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"access_token":"from-the-proxy"}`)
	}))
	t.Cleanup(p.Close)
	return p.URL, &n
}

// A client secret sent over plain http to a loopback token endpoint never
// goes to the explicit proxy (which would see it in clear text), and
// neither does an https request to a loopback host: only what
// http.ProxyFromEnvironment would proxy is. Before the fix, ProxyURL was
// http.ProxyURL itself and the POST below reached the proxy.
func TestExplicitProxySkipsPlainHTTPAndLoopback(t *testing.T) {
	t.Parallel()
	proxy, hits := recordingProxy(t)
	var direct atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		direct.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	p, err := ProxyURL("proxy", proxy)
	require.NoError(t, err)
	tr := Transport()
	tr.Proxy = p
	c := Client(&http.Client{Transport: tr}, "oauthclient")
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/token", strings.NewReader("client_secret=hunter2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := Do(c, "oauthclient", req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Zero(t, hits.Load(), "the plain-http loopback request went to the proxy")
	assert.EqualValues(t, 1, direct.Load())

	for _, u := range []string{"http://127.0.0.1/token", "https://127.0.0.1:8443/token", "https://[::1]/token", "https://localhost/token",
		"http://idp.example.com/token", "http://169.254.169.254/metadata", "https://metadata.google.internal/"} {
		got, err := p(&http.Request{URL: must(url.Parse(u))})
		require.NoError(t, err)
		assert.Nil(t, got, u)
	}
	got, err := p(&http.Request{URL: must(url.Parse("https://login.microsoftonline.com/t/oauth2/v2.0/token"))})
	require.NoError(t, err)
	assert.NotNil(t, got)
}

// wrapRT stands for a caller's instrumentation wrapper (otelhttp): a
// transport type the gate does not recognise.
type wrapRT struct {
	rt http.RoundTripper
	n  *atomic.Int32
}

func (w wrapRT) RoundTrip(r *http.Request) (*http.Response, error) {
	w.n.Add(1)
	return w.rt.RoundTrip(r)
}

// A metadata client whose transport is wrapped in a type the gate does
// not recognise never sends metadata requests through the proxy inside
// it. Before the fix the GET to 169.254.169.254 reached the proxy (the
// reviewer's evidence); now it goes directly (and, off a cloud, fails to
// connect before its deadline), while other requests keep the wrapper.
func TestMetadataNeverProxiedThroughUnknownTransport(t *testing.T) {
	t.Parallel()
	proxy, hits := recordingProxy(t)
	var wrapped atomic.Int32
	mc := MetadataClient(&http.Client{Transport: wrapRT{&http.Transport{Proxy: http.ProxyURL(must(url.Parse(proxy)))}, &wrapped}}, "azure")
	for _, u := range []string{"http://169.254.169.254/metadata/identity/oauth2/token?resource=x", "http://[fd00:ec2::254]/latest/api/token"} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := Do(mc, "azure", req)
		if err == nil {
			_ = resp.Body.Close() // on a cloud VM the real metadata server answered
		}
		cancel()
	}
	assert.Zero(t, hits.Load(), "a metadata request went to the proxy")
	assert.Zero(t, wrapped.Load())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	resp, err := Do(mc, "azure", must(http.NewRequest(http.MethodGet, srv.URL, nil)))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.EqualValues(t, 1, wrapped.Load(), "a loopback emulator is reached through the caller's transport")
}

// A proxy value that is not a proxy URL, or that would send proxy
// credentials over plain http to another host, is an error of its own:
// it names the setting, quotes the value without user info, says what
// to write and matches ErrInvalidProxy. Before the fix it was
// "idphttp: invalid TLS option: ... is not a proxy URL", without the
// value, and credentials over http were accepted.
func TestProxySettingRefused(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"socks5://u:pw-secret@proxy:1080":     `Options.Proxy is "socks5://proxy:1080", which is not a proxy URL; use http://host:port or https://host:port`,
		"http://":                             `Options.Proxy is "http:", which is not a proxy URL`,
		"http://u:pw-secret@proxy.corp:3128":  `Options.Proxy is "http://proxy.corp:3128" with a user name and password over plain http`,
		" http://u:pw-secret@10.0.0.1:3128/ ": `Options.Proxy is "http://10.0.0.1:3128/" with a user name and password over plain http`,
	} {
		_, err := ProxyURL("Options.Proxy", raw)
		require.Error(t, err, raw)
		assert.True(t, errors.Is(err, ErrInvalidProxy), raw)
		assert.False(t, errors.Is(err, ErrTLSOption), raw)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "pw-secret")
		assert.NotContains(t, err.Error(), "TLS")
	}
	for _, ok := range []string{"http://u:pw@127.0.0.1:3128", "http://u:pw@localhost:3128", "https://u:pw@proxy.corp:3128", "http://proxy.corp:3128"} {
		_, err := ProxyURL("Options.Proxy", ok)
		assert.NoError(t, err, ok)
	}
}

// HTTPS_PROXY with credentials over plain http to another host is an
// error for the request, naming the variable, before anything is sent.
// http.ProxyFromEnvironment reads the environment once per process, so
// the check runs in a child process with the variable set. Before the
// fix the request went to the proxy with Proxy-Authorization in clear.
func TestEnvironmentProxyCredentialsInClearRefused(t *testing.T) {
	if os.Getenv("IDPHTTP_TEST_ENV_PROXY") == "child" {
		c := Client(nil, "oauthclient")
		req, _ := http.NewRequest(http.MethodPost, "https://idp.example.com/token", strings.NewReader("client_secret=s"))
		_, err := Do(c, "oauthclient", req)
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrInvalidProxy), "%v", err)
		assert.Contains(t, err.Error(), `HTTPS_PROXY is "http://proxy.invalid:3128" with a user name and password over plain http`)
		assert.NotContains(t, err.Error(), "pw-secret")
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnvironmentProxyCredentialsInClearRefused$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IDPHTTP_TEST_ENV_PROXY=child", "HTTPS_PROXY=http://svc:pw-secret@proxy.invalid:3128", "https_proxy=", "NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "PASS")
}

// TestGateKeepsTheTLSTransportItWasGiven: a client built with
// NewTLSTransport and a proxy keeps the very transport (and the roots and
// key it loaded at construction) through the gate, instead of a copy that
// would load them again on the first request; only a metadata client's
// checked hosts call for a copy.
func TestGateKeepsTheTLSTransportItWasGiven(t *testing.T) {
	t.Parallel()
	proxy, err := ProxyURL("HTTPS_PROXY", "http://127.0.0.1:3128")
	require.NoError(t, err)
	rt, err := NewTLSTransport(&TLSOptions{Setting: "test"}, proxy)
	require.NoError(t, err)
	assert.Same(t, rt, gateBase(rt, policy{}), "no metadata hosts: the same transport")
	assert.NotSame(t, rt, gateBase(rt, policy{metadata: true, hosts: map[string]bool{"metadata.example": true}}), "metadata hosts: a guarded copy")
}
