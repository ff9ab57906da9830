package oauthclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// KIP-1258 client.properties files, as a Java user on Kafka 4.4 writes
// them for the client-credentials grant without a secret, each parse,
// build and produce and consume through the in-process broker, with
// tokens from the bench's TLS OAuth server: a pre-generated assertion
// file; a locally signed assertion; both (the file wins, with Kafka's
// warning). The same files are run through kafka-clients 4.4.0 by
// e2e's TestKafkaAcceptsKIP1258Files.
func TestClientAssertionPropertiesReachBroker(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	dir := t.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPath := filepath.Join(dir, "orders-svc.pem")
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	idp := emu.NewClientCredentialsServer(t, &emu.ClientCredentialsServerOptions{
		Issuer: iss, Audience: "kafka", TLS: true,
		Clients: map[string]emu.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})
	assertionFile := func(t *testing.T) string {
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		a, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "orders-svc", "sub": "orders-svc", "aud": idp.TokenURL(),
			"exp": time.Now().Add(5 * time.Minute).Unix(), "jti": fmt.Sprintf("%x", jti)}).SignedString(key)
		require.NoError(t, err)
		p := filepath.Join(t.TempDir(), "assertion.jwt")
		require.NoError(t, os.WriteFile(p, []byte(a), 0o600))
		return p
	}
	signing := "sasl.oauthbearer.assertion.algorithm=RS256\n" +
		"sasl.oauthbearer.assertion.private.key.file=" + keyPath + "\n" +
		"sasl.oauthbearer.assertion.claim.iss=orders-svc\n" +
		"sasl.oauthbearer.assertion.claim.sub=orders-svc\n" +
		"sasl.oauthbearer.assertion.claim.aud=" + idp.TokenURL() + "\n" +
		"sasl.oauthbearer.assertion.claim.jti.include=true\n"
	tests := map[string]struct {
		props    func(t *testing.T) (props string, files []string)
		wantWarn bool
	}{
		"assertion file": {props: func(t *testing.T) (string, []string) {
			f := assertionFile(t)
			return "sasl.oauthbearer.assertion.file=" + f + "\n", []string{f}
		}},
		"signed assertion": {props: func(*testing.T) (string, []string) { return signing, []string{keyPath} }},
		"both, file wins": {wantWarn: true, props: func(t *testing.T) (string, []string) {
			f := assertionFile(t)
			// The signing settings name a key the server does not know
			// for this client: only the file can succeed.
			other := strings.Replace(signing, "claim.iss=orders-svc", "claim.iss=someone-else", 1)
			return other + "sasl.oauthbearer.assertion.file=" + f + "\n", []string{f}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body, files := tc.props(t)
			props := `# Kafka 4.4 client credentials with a client assertion instead of a secret (KIP-1258)
bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.ClientCredentialsJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL() + `
sasl.oauthbearer.client.credentials.client.id=orders-svc
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
` + body
			c, err := clientprops.Parse(strings.NewReader(props))
			require.NoError(t, err)
			var logs bytes.Buffer
			src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{idp.TokenURL()}, AllowedFiles: files,
				HTTPClient: idp.Client(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, tc.wantWarn, strings.Contains(logs.String(), "level=WARN"), logs.String())
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))),
				kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			require.NoError(t, err)
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte(name)}).FirstErr())
			fs := cl.PollFetches(ctx)
			require.NoError(t, fs.Err())
			assert.NotZero(t, fs.NumRecords())
			checkAuths(t, broker, "orders-svc")
		})
	}
}

// Token-endpoint TLS from client.properties as a Java user on Kafka 4.4
// writes it: the JAAS ssl.truststore.* options (PEM) for a private CA,
// ssl.keystore.* (PEM, encrypted key with ssl.key.password) for mutual TLS
// (RFC 8705 tls_client_auth: no secret, the certificate authenticates the
// client and the token is bound to it), and librdkafka's
// https.ca.location. Each parses, builds without an HTTPClient of the
// test's, and produces and consumes through the in-process broker.
func TestTokenEndpointTLSPropertiesReachBroker(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	ca := testpki.NewCA(t)
	idp := emu.NewClientCredentialsServer(t, &emu.ClientCredentialsServerOptions{
		Issuer: iss, Audience: "kafka", TLS: true, ClientCAs: ca.Pool(),
		Clients: map[string]emu.OAuthClient{"orders-svc": {Secret: "s3cr3t-value"}, "orders-mtls": {CertSubject: "CN=orders-mtls"}},
	})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "idp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, idp.CertificatePEM(), 0o600))
	keystore := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(keystore, ca.IssueClientEncrypted(t, "orders-mtls", "k3y-pass"), 0o600))
	head := `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL() + "\n"
	tests := map[string]struct{ props, principal string }{
		"JAAS PEM truststore": {head + `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
  clientId='orders-svc' clientSecret='s3cr3t-value' \
  ssl.truststore.type='PEM' ssl.truststore.location='` + caFile + `';
`, "orders-svc"},
		"JAAS PEM keystore, mutual TLS": {head + `sasl.oauthbearer.client.credentials.client.id=orders-mtls
sasl.oauthbearer.client.credentials.client.secret=unused-by-tls-client-auth
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
  ssl.truststore.type='PEM' ssl.truststore.location='` + caFile + `' \
  ssl.keystore.type='PEM' ssl.keystore.location='` + keystore + `' ssl.key.password='k3y-pass' \
  ssl.enabled.protocols='TLSv1.3,TLSv1.2' ssl.endpoint.identification.algorithm='https';
`, "orders-mtls"},
		"librdkafka https.ca.location": {head + `https.ca.location=` + caFile + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='orders-svc' clientSecret='s3cr3t-value';
`, "orders-svc"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := clientprops.Parse(strings.NewReader(tc.props))
			require.NoError(t, err)
			require.NotNil(t, c.Source.TLS)
			src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{idp.TokenURL()}})
			require.NoError(t, err)
			defer src.Close()
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))),
				kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			require.NoError(t, err)
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte(name)}).FirstErr())
			fs := cl.PollFetches(ctx)
			require.NoError(t, fs.Err())
			assert.NotZero(t, fs.NumRecords())
			checkAuths(t, broker, tc.principal)
		})
	}
	// The system roots do not trust the bench's CA: without the
	// truststore the error names the host.
	c, err := clientprops.Parse(strings.NewReader(head + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='orders-svc' clientSecret='s3cr3t-value';\n"))
	require.NoError(t, err)
	src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{idp.TokenURL()}})
	require.NoError(t, err)
	defer src.Close()
	_, err = src.Token(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
}
