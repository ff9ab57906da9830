package oauthclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// javaCase is a client.properties file as a Java user on Kafka 4.4 writes
// it. Its assertion files are single-use (a jti), so props writes fresh
// ones on every call.
type javaCase struct {
	name      string
	principal string
	// wantWarn: Kafka and this library log a warning (file and signing
	// settings both given).
	wantWarn bool
	// props returns the file and the files it names that must be on the
	// allow-list of files.
	props func(t *testing.T) (props string, files []string)
}

// javaBench is the bench the cases run against: the TLS OAuth server
// (with client-certificate verification) and its CA file.
type javaBench struct {
	iss   *idptest.Issuer
	idp   *idptest.OAuthServer
	cases []javaCase
}

// newJavaBench starts the TLS OAuth server and returns the five files of
// issue #25's acceptance: client credentials with an assertion file, with
// a locally signed assertion, with both (the file wins), with a JAAS PEM
// truststore for the private CA, and with a PEM keystore for mutual TLS.
// Every file trusts the server through the JAAS truststore, so none needs
// an HTTP client of the test's.
func newJavaBench(t *testing.T) *javaBench {
	iss := idptest.NewIssuer(t, nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ca := testpki.NewCA(t)
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: iss, Audience: "kafka", TLS: true, ClientCAs: ca.Pool(),
		Clients: map[string]idptest.OAuthClient{
			"orders-svc":  {PublicKey: &key.PublicKey},
			"orders-sec":  {Secret: "s3cr3t-value"},
			"orders-mtls": {CertSubject: "CN=orders-mtls"},
		},
	})
	dir := t.TempDir()
	keyPath := testpki.KeyFile(t, filepath.Join(dir, "orders-svc.pem"), key)
	caFile := filepath.Join(dir, "idp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, idp.CertificatePEM(), 0o600))
	keystore := filepath.Join(dir, "client.pem")
	// Unencrypted: Kafka on JDK 17 cannot read a PBES2-encrypted PEM key
	// ("PBES2 SecretKeyFactory not available"); clientprops' tests cover
	// ssl.key.password with an encrypted key.
	certPEM, keyPEM := ca.IssueClient(t, "orders-mtls")
	require.NoError(t, os.WriteFile(keystore, append(keyPEM, certPEM...), 0o600))

	assertionFile := func(t *testing.T) string {
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		a, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "orders-svc", "sub": "orders-svc", "aud": idp.TokenURL,
			"exp": time.Now().Add(5 * time.Minute).Unix(), "jti": fmt.Sprintf("%x", jti)}).SignedString(key)
		require.NoError(t, err)
		p := filepath.Join(t.TempDir(), "assertion.jwt")
		require.NoError(t, os.WriteFile(p, []byte(a), 0o600))
		return p
	}
	head := `# Kafka 4.4 client credentials (sasl.oauthbearer.* keys of KIP-1258 and the JAAS ssl.* options)
bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.ClientCredentialsJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL + "\n"
	trust := "ssl.truststore.type='PEM' ssl.truststore.location='" + caFile + "'"
	jaas := "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required " + trust + ";\n"
	signing := "sasl.oauthbearer.client.credentials.client.id=orders-svc\n" +
		"sasl.oauthbearer.assertion.algorithm=RS256\n" +
		"sasl.oauthbearer.assertion.private.key.file=" + keyPath + "\n" +
		"sasl.oauthbearer.assertion.claim.iss=%s\n" +
		"sasl.oauthbearer.assertion.claim.sub=orders-svc\n" +
		"sasl.oauthbearer.assertion.claim.aud=" + idp.TokenURL + "\n" +
		"sasl.oauthbearer.assertion.claim.jti.include=true\n"
	return &javaBench{iss: iss, idp: idp, cases: []javaCase{
		{name: "assertion file", principal: "orders-svc", props: func(t *testing.T) (string, []string) {
			f := assertionFile(t)
			return head + "sasl.oauthbearer.client.credentials.client.id=orders-svc\nsasl.oauthbearer.assertion.file=" + f + "\n" + jaas, []string{f}
		}},
		{name: "signed assertion", principal: "orders-svc", props: func(*testing.T) (string, []string) {
			return head + fmt.Sprintf(signing, "orders-svc") + jaas, []string{keyPath}
		}},
		// The signing settings name an issuer the server does not know:
		// only the file can succeed.
		{name: "both (the file wins)", principal: "orders-svc", wantWarn: true, props: func(t *testing.T) (string, []string) {
			f := assertionFile(t)
			return head + fmt.Sprintf(signing, "someone-else") + "sasl.oauthbearer.assertion.file=" + f + "\n" + jaas, []string{f}
		}},
		{name: "JAAS PEM truststore", principal: "orders-sec", props: func(*testing.T) (string, []string) {
			return head + "sasl.oauthbearer.client.credentials.client.id=orders-sec\n" +
				"sasl.oauthbearer.client.credentials.client.secret=s3cr3t-value\n" + jaas, nil
		}},
		// RFC 8705: the certificate authenticates the client; Kafka
		// requires a secret anyway, which the server ignores.
		{name: "JAAS PEM keystore for mutual TLS", principal: "orders-mtls", props: func(*testing.T) (string, []string) {
			return head + "sasl.oauthbearer.client.credentials.client.id=orders-mtls\n" +
				"sasl.oauthbearer.client.credentials.client.secret=unused-by-tls-client-auth\n" +
				"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required " + trust + " \\\n" +
				"  ssl.keystore.type='PEM' ssl.keystore.location='" + keystore + "' \\\n" +
				"  ssl.enabled.protocols='TLSv1.3,TLSv1.2' ssl.endpoint.identification.algorithm='https';\n", nil
		}},
	}}
}

// Each file parses, builds (with its assertion files on the allow-list,
// and no HTTP client of the test's: the JAAS truststore trusts the
// server) and produces and consumes through the in-process broker.
func TestJavaPropertiesReachBroker(t *testing.T) {
	b := newJavaBench(t)
	topic := func(i int) string { return fmt.Sprintf("orders-%d", i) }
	var topics []string
	for i := range b.cases {
		topics = append(topics, topic(i))
	}
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: b.iss, ExpectedAudience: "kafka", Topics: topics})
	for i, tc := range b.cases {
		t.Run(tc.name, func(t *testing.T) {
			props, files := tc.props(t)
			c, err := clientprops.Parse(strings.NewReader(props))
			require.NoError(t, err)
			require.NotNil(t, c.Source.TLS)
			var logs bytes.Buffer
			src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{b.idp.TokenURL}, AllowedFiles: files,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, tc.wantWarn, strings.Contains(logs.String(), "level=WARN"), logs.String())
			clienttest.Franz(t, broker.Addrs(), topic(i), src, tc.name)
			checkAuths(t, broker, tc.principal)
		})
	}
}

// librdkafka's https.ca.location trusts the private CA too; without any
// CA setting the system roots refuse the bench's certificate, and the
// error names the host.
func TestHTTPSCALocation(t *testing.T) {
	b := newJavaBench(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, b.idp.CertificatePEM(), 0o600))
	props := `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + b.idp.TokenURL + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='orders-sec' clientSecret='s3cr3t-value';
`
	for name, extra := range map[string]string{"https.ca.location": "https.ca.location=" + caFile + "\n", "system roots": ""} {
		t.Run(name, func(t *testing.T) {
			c, err := clientprops.Parse(strings.NewReader(props + extra))
			require.NoError(t, err)
			src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{b.idp.TokenURL}})
			require.NoError(t, err)
			defer src.Close()
			tok, err := src.Token(context.Background())
			if extra == "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "certificate")
				assert.Contains(t, err.Error(), strings.TrimPrefix(b.idp.URL, "https://"))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "orders-sec", tok.Principal)
		})
	}
}
