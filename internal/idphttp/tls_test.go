package idphttp

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
)

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func postToken(t *testing.T, rt http.RoundTripper, tokenURL, clientID string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return rt.RoundTrip(req)
}

// A private CA given as a PEM file is trusted; without it the handshake
// fails with an error naming the setting and the host; a rotated file is
// read again.
func TestTLSRootCAFile(t *testing.T) {
	t.Parallel()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), TLS: true,
		Clients: map[string]idptest.OAuthClient{"c": {Secret: "s"}}})
	dir := t.TempDir()
	wrong := write(t, dir, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testpki.NewCA(t).Cert.Raw}))
	rt, err := NewTLSTransport(&TLSOptions{RootCAFile: wrong, ReplaceRoots: true, Setting: "sasl.jaas.config option ssl.truststore.location"}, nil)
	require.NoError(t, err)
	_, err = postToken(t, rt, srv.TokenURL, "c")
	var te *TLSError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "ssl.truststore.location")
	assert.Contains(t, err.Error(), strings.TrimPrefix(srv.URL, "https://"))

	// Rotate the file: the next request reads it.
	require.NoError(t, os.WriteFile(wrong, srv.CertificatePEM(), 0o600))
	require.NoError(t, os.Chtimes(wrong, time.Now(), time.Now().Add(time.Minute)))
	resp, err := postToken(t, rt, srv.TokenURL, "c")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode) // reached the server: no secret sent
}

// RFC 8705: the client certificate authenticates the client, the token
// is bound to it (cnf.x5t#S256), and it is presented only to CertHosts.
func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), ClientCAs: ca.Pool(),
		Clients: map[string]idptest.OAuthClient{"orders": {CertSubject: "CN=orders"}}})
	dir := t.TempDir()
	certPEM, keyPEM := ca.IssueClient(t, "orders")
	caFile := write(t, dir, "server-ca.pem", srv.CertificatePEM())
	both := write(t, dir, "client.pem", append(append([]byte{}, certPEM...), keyPEM...))

	rt, err := NewTLSTransport(&TLSOptions{RootCAFile: caFile, CertFile: both}, nil)
	require.NoError(t, err)
	resp, err := postToken(t, rt, srv.TokenURL, "orders")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(body, &reply))
	parts := strings.Split(reply.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	b, _ := pem.Decode(certPEM)
	sum := sha256.Sum256(b.Bytes)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), claims.Cnf["x5t#S256"])

	// Restricted to another host: the certificate is not presented, and
	// the server refuses the client.
	rt, err = NewTLSTransport(&TLSOptions{RootCAFile: caFile, CertFile: both, CertHosts: []string{"idp.example"}}, nil)
	require.NoError(t, err)
	resp, err = postToken(t, rt, srv.TokenURL, "orders")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestTLSOptionsRefused(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	certPEM, _ := ca.IssueClient(t, "a")
	_, otherKey := ca.IssueClient(t, "b")
	tests := map[string]struct {
		o    TLSOptions
		want string
	}{
		"TLS 1.1":          {TLSOptions{MinVersion: tls.VersionTLS11, MinVersionSetting: "ssl.protocol"}, "ssl.protocol asks for a TLS version below 1.2"},
		"missing CA file":  {TLSOptions{RootCAFile: filepath.Join(dir, "nope.pem"), Setting: "https.ca.location"}, "https.ca.location"},
		"no certificates":  {TLSOptions{RootCAPEM: []byte("hello"), Setting: "https.ca.pem"}, "holds no PEM certificate"},
		"key of another":   {TLSOptions{CertPEM: certPEM, KeyPEM: otherKey, CertSetting: "ssl.keystore.location"}, "does not match"},
		"cert without key": {TLSOptions{CertFile: write(t, dir, "c.pem", certPEM), CertSetting: "ssl.keystore.location"}, "ssl.keystore.location"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewTLSTransport(&tc.o, nil)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrTLSOption), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}
