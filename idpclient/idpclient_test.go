package idpclient_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/proxytest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// A client-credentials source reaches an identity provider behind a
// private CA, authenticating with its certificate alone (RFC 8705
// tls_client_auth: no secret), through an explicit proxy; the token is
// bound to the certificate.
func TestPrivateCAMutualTLSThroughProxy(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), ClientCAs: ca.Pool(),
		Clients: map[string]idptest.OAuthClient{"orders": {CertSubject: "CN=orders"}}})
	proxy := proxytest.NewProxy(t, nil)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CertificatePEM(), 0o600))
	certFile := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(certFile, ca.IssueClientEncrypted(t, "orders", "hunter2"), 0o600))

	hc, err := idpclient.New(&idpclient.Options{RootCAFile: caFile, CertFile: certFile, KeyPassphrase: "hunter2", Proxy: proxy.URL})
	require.NoError(t, err)
	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: proxytest.ThroughProxy(srv.TokenURL), ClientID: "orders", TLSClientAuth: true, HTTPClient: hc})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "orders", tok.Principal)
	assert.Equal(t, []string{strings.TrimPrefix(proxytest.ThroughProxy(srv.URL), "https://")}, proxy.Passed())
}

// Each refused option is named as the user wrote it, once, with the
// value quoted (no proxy credentials). Before the fix a bad proxy read
// "idpclient: idphttp: invalid TLS option: idpclient: Options.Proxy is
// not a proxy URL", and a missing KeyFile was reported as CertFile.
func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	certFile := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(certFile, ca.IssueClientEncrypted(t, "orders", "hunter2"), 0o600))
	for name, tc := range map[string]struct {
		o    idpclient.Options
		want string
	}{
		"missing CA file":  {idpclient.Options{RootCAFile: "/nonexistent/ca.pem"}, `idpclient.Options.RootCAFile "/nonexistent/ca.pem" cannot be read`},
		"TLS 1.1":          {idpclient.Options{MinVersion: 0x0302}, "TLS version below 1.2"},
		"missing key file": {idpclient.Options{CertFile: certFile, KeyFile: "/nonexistent/key.pem"}, `idpclient.Options.KeyFile "/nonexistent/key.pem" cannot be read`},
		"bad proxy": {idpclient.Options{Proxy: "socks5://svc:pw-secret@proxy:1080"},
			`idpclient.Options.Proxy is "socks5://proxy:1080", which is not a proxy URL; use http://host:port or https://host:port`},
		"proxy credentials in clear": {idpclient.Options{Proxy: "http://svc:pw-secret@proxy.corp:3128"},
			`idpclient.Options.Proxy is "http://proxy.corp:3128" with a user name and password over plain http`},
	} {
		_, err := idpclient.New(&tc.o)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
		assert.NotContains(t, err.Error(), "pw-secret", name)
		if strings.Contains(name, "proxy") {
			assert.ErrorIs(t, err, idpclient.ErrInvalidProxy, name)
			assert.True(t, strings.HasPrefix(err.Error(), "idpclient.Options.Proxy is "), "%s: %v", name, err)
			assert.Equal(t, 1, strings.Count(err.Error(), "idpclient"), "%s: %v", name, err)
			assert.NotContains(t, err.Error(), "idphttp", name)
			assert.NotContains(t, err.Error(), "TLS", name)
		}
	}
}

// A client secret sent over plain http to a loopback token endpoint
// (a local test server) never goes to Options.Proxy, which would see it
// in clear text; before the fix it did (observed at the proxy, which
// answered 405 to the plain-http request).
func TestPlainHTTPLoopbackNotProxied(t *testing.T) {
	t.Parallel()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders": {Secret: "s3cret"}}})
	proxy := proxytest.NewProxy(t, nil)
	hc, err := idpclient.New(&idpclient.Options{Proxy: proxy.URL})
	require.NoError(t, err)
	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: srv.TokenURL, ClientID: "orders", ClientSecret: "s3cret", HTTPClient: hc})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	assert.Empty(t, proxy.Refused(), "the plain-http request went to the proxy")
	assert.Empty(t, proxy.Passed())
}
