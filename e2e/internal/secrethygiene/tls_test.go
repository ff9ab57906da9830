package secrethygiene

import (
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/proxytest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Token-endpoint TLS: the keystore's key (a PEM keystore file),
// ssl.key.password, the idpclient key passphrase and the proxy password
// appear in no
// log record, error or encoder output of the parsed file, the options,
// the client or the source, with right and wrong passwords.
func TestTokenEndpointTLSHygiene(t *testing.T) {
	c := newCollector()
	iss := idptest.NewIssuer(t, nil)
	ca := testpki.NewCA(t)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, ClientCAs: ca.Pool(),
		Clients: map[string]idptest.OAuthClient{"orders-mtls": {CertSubject: "CN=orders-mtls"}}})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	const keyPass, proxyPass = "tls-key-pass-0123456789abcdef", "proxy-pass-0123456789abcdef"
	c.secret("ssl.key.password", keyPass)
	c.secret("proxy password", proxyPass)
	certPEM, keyPEM := ca.IssueClient(t, "orders-mtls")
	b, _ := pem.Decode(keyPEM)
	c.secret("client key (PKCS#8, base64)", base64.StdEncoding.EncodeToString(b.Bytes))
	c.secret("client key (PEM body)", strings.Split(string(keyPEM), "\n")[1])
	encPEM := testpki.EncryptPKCS8(t, b.Bytes, keyPass)
	caFile := write("ca.pem", srv.CertificatePEM())
	ks := write("ks.pem", append(append([]byte{}, encPEM...), certPEM...))

	props := func(jaasTLS string) string {
		return `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + srv.TokenURL + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='orders-mtls' clientSecret='x' ssl.truststore.type='PEM' ssl.truststore.location='` + caFile + `' ` + jaasTLS + `;
`
	}
	for _, tc := range []struct {
		name, jaas string
		ok         bool
	}{
		{"keystore file", "ssl.keystore.type='PEM' ssl.keystore.location='" + ks + "' ssl.key.password='" + keyPass + "'", true},
		{"keystore wrong password", "ssl.keystore.type='PEM' ssl.keystore.location='" + ks + "' ssl.key.password='" + keyPass + "-wrong'", false},
		{"JKS refused", "ssl.keystore.location='/ks.jks' ssl.keystore.password='" + keyPass + "' ssl.key.password='" + keyPass + "'", false},
	} {
		cfg, err := clientprops.Parse(strings.NewReader(props(tc.jaas)))
		c.err(err)
		if err != nil {
			require.False(t, tc.ok, "%s: %v", tc.name, err)
			continue
		}
		c.value(cfg)
		c.value(cfg.Source)
		c.value(cfg.Source.TLS)
		es, err := cfg.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{srv.TokenURL}, Logger: c.log})
		c.err(err)
		if !tc.ok {
			require.Error(t, err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		tok, err := es.Token(tctx(t))
		require.NoError(t, err, tc.name)
		c.secret(tc.name+" token", tok.Value)
		c.value(tok)
		c.value(es)
		require.NoError(t, es.Close())
	}

	// idpclient with a passphrase and a proxy with credentials (refused:
	// the bench proxy wants others), and a client-credentials source
	// reaching the loopback emulator through it (proxytest.ThroughProxy: the
	// gate never proxies a loopback host).
	proxy := proxytest.NewProxy(t, &proxytest.ProxyOptions{BasicAuth: "svc:other"})
	o := idpclient.Options{RootCAFile: caFile, CertFile: ks, KeyPassphrase: keyPass, Proxy: strings.Replace(proxy.URL, "http://", "http://svc:"+proxyPass+"@", 1)}
	c.value(o)
	hc, err := idpclient.New(&o)
	require.NoError(t, err)
	cco := oauthclient.ClientCredentialsOptions{TokenURL: proxytest.ThroughProxy(srv.TokenURL), ClientID: "orders-mtls", TLSClientAuth: true, HTTPClient: hc, Cache: fastCache(c)}
	src, err := oauthclient.NewClientCredentials(&cco)
	require.NoError(t, err)
	useErr(t, c, "mtls through a refusing proxy", src)
	o.KeyPassphrase = keyPass + "-wrong"
	_, err = idpclient.New(&o)
	require.Error(t, err)
	c.err(err)
	c.check(t)
}
