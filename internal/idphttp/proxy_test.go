package idphttp

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/proxytest"
)

// proxied returns a client through the gate whose transport trusts srv
// and sends through proxy.
func proxied(t *testing.T, srv *idptest.OAuthServer, proxy string, metadata bool, hosts ...string) *http.Client {
	t.Helper()
	tr := Transport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	p, err := ProxyURL("proxy", proxy)
	require.NoError(t, err)
	tr.Proxy = p
	if metadata {
		return MetadataClient(&http.Client{Transport: tr}, "azure", hosts...)
	}
	return Client(&http.Client{Transport: tr}, "oauthclient")
}

func post(c *http.Client, u string) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return Do(c, "oauthclient", req)
}

// Token requests go through the proxy (observed at the bench's CONNECT
// proxy); metadata requests never do, whatever the proxy setting.
func TestProxyCarriesTokenRequestsNotMetadata(t *testing.T) {
	t.Parallel()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), TLS: true,
		Clients: map[string]idptest.OAuthClient{"c": {Secret: "s"}}})
	proxy := proxytest.NewProxy(t, nil)
	resp, err := post(proxied(t, srv, proxy.URL, false), proxytest.ThroughProxy(srv.TokenURL))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, []string{strings.TrimPrefix(proxytest.ThroughProxy(srv.URL), "https://")}, proxy.Passed())

	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(md.Close)
	mc := proxied(t, srv, proxy.URL, true, "127.0.0.1")
	req, _ := http.NewRequest(http.MethodGet, md.URL+"/metadata/identity/oauth2/token", nil)
	resp, err = Do(mc, "azure", req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, proxy.Refused())
	assert.Len(t, proxy.Passed(), 1)
	// IMDS, the GCE metadata server and AWS's IPv6 IMDS bypass it; an
	// Entra request from the same metadata client does not.
	p := Base(mc).(*http.Transport).Proxy
	for _, u := range []string{"http://169.254.169.254/metadata/identity/oauth2/token", "http://metadata.google.internal/computeMetadata/v1/", "http://[fd00:ec2::254]/latest/api/token"} {
		got, err := p(&http.Request{URL: must(url.Parse(u))})
		require.NoError(t, err)
		assert.Nil(t, got, u)
	}
	got, _ := p(&http.Request{URL: must(url.Parse("https://login.microsoftonline.com/t/oauth2/v2.0/token"))})
	assert.NotNil(t, got)
}

// A proxy that answers 407 or cannot be reached is named in the error,
// without its credentials.
func TestProxyFailuresExplained(t *testing.T) {
	t.Parallel()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), TLS: true,
		Clients: map[string]idptest.OAuthClient{"c": {Secret: "s"}}})
	proxy := proxytest.NewProxy(t, &proxytest.ProxyOptions{BasicAuth: "svc:right-pass"})
	pu := must(url.Parse(proxy.URL))

	pu.User = url.UserPassword("svc", "hunter2-wrong")
	_, err := post(proxied(t, srv, pu.String(), false), proxytest.ThroughProxy(srv.TokenURL))
	var pe *ProxyError
	require.ErrorAs(t, err, &pe, "%v", err)
	assert.Equal(t, "407 Proxy Authentication Required", pe.Status)
	assert.Contains(t, err.Error(), proxy.URL)
	assert.Contains(t, err.Error(), "requires authentication")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "svc:")

	pu.User = url.UserPassword("svc", "right-pass")
	resp, err := post(proxied(t, srv, pu.String(), false), proxytest.ThroughProxy(srv.TokenURL))
	require.NoError(t, err)
	_ = resp.Body.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://svc:hunter2@" + ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = post(proxied(t, srv, dead, false), proxytest.ThroughProxy(srv.TokenURL))
	require.ErrorAs(t, err, &pe, "%v", err)
	assert.Contains(t, err.Error(), "cannot be reached")
	assert.Contains(t, err.Error(), ln.Addr().String())
	assert.NotContains(t, err.Error(), "hunter2")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
