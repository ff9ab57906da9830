package clientprops

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
)

// The JAAS ssl.* options Kafka 4.4 applies to the token endpoint map to
// TLSSettings; an encrypted PEM keystore key is decrypted with
// ssl.key.password, the certificate authenticates the client (RFC 8705),
// and the password never prints.
func TestPropertiesTokenEndpointMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), ClientCAs: ca.Pool(),
		Clients: map[string]idptest.OAuthClient{"orders-mtls": {CertSubject: "CN=orders-mtls"}}})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CertificatePEM(), 0o600))
	ks := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(ks, ca.IssueClientEncrypted(t, "orders-mtls", "hunter2-key"), 0o600))
	props := strings.Replace(tlsHead, "https://idp.example/token", srv.TokenURL, 1) + `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
  clientId='orders-mtls' clientSecret='ignored-by-the-server' \
  ssl.truststore.type='PEM' ssl.truststore.location='` + caFile + `' \
  ssl.keystore.type='PEM' ssl.keystore.location='` + ks + `' ssl.key.password='hunter2-key' \
  ssl.protocol='TLSv1.3' ssl.enabled.protocols='TLSv1.3';
`
	c, err := Parse(strings.NewReader(props))
	require.NoError(t, err)
	require.NotNil(t, c.Source.TLS)
	assert.Equal(t, caFile, c.Source.TLS.TrustStoreFile)
	assert.Equal(t, ks, c.Source.TLS.KeyStoreFile)
	assert.Equal(t, uint16(tls.VersionTLS13), c.Source.TLS.MinVersion)
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "orders-mtls", tok.Principal)
	for _, v := range []any{c.Source.TLS, *c.Source.TLS, c.Source} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), "hunter2")
		}
		b, _ := json.Marshal(v)
		assert.NotContains(t, string(b), "hunter2")
	}
	// A wrong key password is refused at build, naming the setting.
	c, err = Parse(strings.NewReader(strings.Replace(props, "ssl.key.password='hunter2-key'", "ssl.key.password='hunter2-wrong'", 1)))
	require.NoError(t, err)
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ssl.keystore.location")
	assert.NotContains(t, err.Error(), "hunter2")
	// The file's TLS and a caller's HTTP client do not mix.
	c, err = Parse(strings.NewReader(props))
	require.NoError(t, err)
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, HTTPClient: srv.Client()})
	require.ErrorContains(t, err, "BuildOptions.HTTPClient")
	// It names both settings, apart.
	assert.Contains(t, err.Error(), "(sasl.jaas.config option ssl.truststore.location and sasl.jaas.config option ssl.keystore.location)")
}

// The TLS-and-HTTPClient error names each setting that gave the file's
// TLS, joined with " and ", never run together.
func TestTLSSettingsNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    TLSSettings
		want string
	}{
		{TLSSettings{TrustSetting: "https.ca.location"}, "https.ca.location"},
		{TLSSettings{KeySetting: "sasl.jaas.config option ssl.keystore.location"}, "sasl.jaas.config option ssl.keystore.location"},
		{TLSSettings{TrustSetting: "https.ca.pem", KeySetting: "sasl.jaas.config option ssl.keystore.certificate.chain"}, "https.ca.pem and sasl.jaas.config option ssl.keystore.certificate.chain"},
		{TLSSettings{MinVersion: tls.VersionTLS13}, "sasl.jaas.config option ssl.enabled.protocols"},
	} {
		assert.Equal(t, tc.want, tc.t.settings())
	}
}

// What Kafka 4.4 honours but this package cannot, or what would weaken
// TLS, is refused with why and what to use.
func TestPropertiesTokenEndpointTLSRefused(t *testing.T) {
	t.Parallel()
	jaas := func(opts string) string {
		return tlsHead + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='c' clientSecret='s' " + opts + ";\n"
	}
	tests := map[string]struct{ props, key, want string }{
		"JKS by default":          {jaas("ssl.truststore.location='/ts.jks' ssl.truststore.password='hunter2'"), "sasl.jaas.config", "JKS"},
		"PKCS12 keystore":         {jaas("ssl.keystore.type='PKCS12' ssl.keystore.location='/ks.p12' ssl.keystore.password='hunter2'"), "sasl.jaas.config", "openssl pkcs12"},
		"PEM truststore pass":     {jaas("ssl.truststore.type='PEM' ssl.truststore.location='/ca.pem' ssl.truststore.password='hunter2'"), "sasl.jaas.config", "ssl.truststore.password cannot be used"},
		"PEM keystore pass":       {jaas("ssl.keystore.type='PEM' ssl.keystore.location='/k.pem' ssl.keystore.password='hunter2'"), "sasl.jaas.config", "ssl.key.password"},
		"TLS 1.1":                 {jaas("ssl.enabled.protocols='TLSv1.2,TLSv1.1'"), "sasl.jaas.config", "weaker than the TLS 1.2"},
		"no host name check":      {jaas("ssl.endpoint.identification.algorithm=''"), "sasl.jaas.config", "turns off host name verification"},
		"cipher suites":           {jaas("ssl.cipher.suites='TLS_AES_128_GCM_SHA256'"), "sasl.jaas.config", "cannot be honoured"},
		"https.ca.location probe": {tlsHead + "https.ca.location=probe\nsasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='c' clientSecret='s';\n", "https.ca.location", "probe"},
		"https.ca with Azure": {`bootstrap.servers=k:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://x
https.ca.location=/ca.pem
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`, "https.ca.location", "azure-managed-identity"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.props))
			var pe *PropertyError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tc.key, pe.Key)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}
