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
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
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
	srv := emu.NewClientCredentialsServer(t, &emu.ClientCredentialsServerOptions{Issuer: emu.NewIssuer(t, nil), ClientCAs: ca.Pool(),
		Clients: map[string]emu.OAuthClient{"orders": {CertSubject: "CN=orders"}}})
	proxy := emu.NewProxy(t, nil)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CertificatePEM(), 0o600))
	certFile := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(certFile, ca.IssueClientEncrypted(t, "orders", "hunter2"), 0o600))

	hc, err := idpclient.New(&idpclient.Options{RootCAFile: caFile, CertFile: certFile, KeyPassphrase: "hunter2", Proxy: proxy.URL})
	require.NoError(t, err)
	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: srv.TokenURL(), ClientID: "orders", TLSClientAuth: true, HTTPClient: hc})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "orders", tok.Principal)
	assert.Equal(t, []string{strings.TrimPrefix(srv.URL, "https://")}, proxy.Passed())
}

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]idpclient.Options{
		"missing CA file": {RootCAFile: "/nonexistent/ca.pem"},
		"TLS 1.1":         {MinVersion: 0x0302},
		"bad proxy":       {Proxy: "socks5://proxy:1080"},
	} {
		_, err := idpclient.New(&o)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "idpclient: ", name)
	}
}
