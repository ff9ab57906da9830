//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// TestRealBrokerOIDCSources produces and consumes through a real Kafka
// broker with the two generic OIDC sources, each built from a
// client.properties file written with Kafka 4.4's own keys: a token file
// (FileJwtRetriever: a projected service-account token minted by the
// issuer the listener trusts) and the RFC 7523 jwt-bearer grant
// (JwtBearerJwtRetriever: an RS256 assertion signed with a PEM key file,
// exchanged at the OAuth emulator, whose tokens the listener trusts), and
// the client-credentials grant authenticated with a KIP-1258 client
// assertion (signed, or a pre-generated file) or with a secret against a
// token endpoint behind a private CA (the JAAS PEM truststore).
// Kafka's validator checks signature, iss, aud and exp of each token and
// takes the principal from sub. It starts its own broker (one JVM) so it
// can run alone: go test -tags e2e -run TestRealBrokerOIDCSources ./e2e/
func TestRealBrokerOIDCSources(t *testing.T) {
	tr := newTrustRoot(t)
	b := tr.startBroker(t, kafkatest.Options{})

	dir := t.TempDir()
	const podSA = "system:serviceaccount:orders:writer"
	tokenPath := filepath.Join(dir, "kafka-token")
	require.NoError(t, os.WriteFile(tokenPath, []byte(tr.root.Mint(podSA, sourceAudience, time.Hour, nil)), 0o600))

	const svc = "orders-svc"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyPath := filepath.Join(dir, "orders-svc.pem")
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: tr.root, Audience: sourceAudience,
		Clients: map[string]idptest.OAuthClient{svc: {PublicKey: &key.PublicKey, Scopes: []string{"kafka"}}},
	})

	head := fmt.Sprintf(`bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`, b.Addr)
	// A token endpoint behind a private CA, trusted through the JAAS
	// truststore as Kafka 4.4's handler reads it.
	privIdP := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: tr.root, Audience: sourceAudience, TLS: true,
		Clients: map[string]idptest.OAuthClient{"orders-sec": {Secret: "s3cr3t-value", Scopes: []string{"kafka"}}},
	})
	caPath := filepath.Join(dir, "idp-ca.pem")
	require.NoError(t, os.WriteFile(caPath, privIdP.CertificatePEM(), 0o600))
	assertionPath := filepath.Join(dir, "client-assertion.jwt")
	writeAssertion := func(t *testing.T) {
		// A pre-generated client assertion, as a sidecar writes one; each
		// fetch needs a fresh one (its jti is single-use).
		t.Helper()
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		a, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": svc, "sub": svc, "aud": idp.TokenURL,
			"exp": time.Now().Add(5 * time.Minute).Unix(), "jti": fmt.Sprintf("%x", jti)}).SignedString(key)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(assertionPath, []byte(a), 0o600))
	}
	// The keys of a client assertion signed with keyPath's key, as the
	// jwt-bearer grant and KIP-1258's client credentials grant read them.
	signedAssertion := `sasl.oauthbearer.assertion.private.key.file=` + keyPath + `
sasl.oauthbearer.assertion.claim.iss=` + svc + `
sasl.oauthbearer.assertion.claim.sub=` + svc + `
sasl.oauthbearer.assertion.claim.aud=` + idp.TokenURL + `
sasl.oauthbearer.assertion.claim.jti.include=true
`
	sources := []struct {
		name, principal, allowed, props string
		files                           []string
		before                          func(*testing.T)
	}{
		{"TokenFile", podSA, "file:" + tokenPath, head + `# org.apache.kafka.common.security.oauthbearer.FileJwtRetriever (KIP-768)
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.FileJwtRetriever
sasl.oauthbearer.token.endpoint.url=file:` + tokenPath + "\n", nil, nil},
		{"JWTBearer", svc, idp.TokenURL, head + `# org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever (KIP-1139)
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL + `
sasl.oauthbearer.scope=kafka
sasl.oauthbearer.assertion.algorithm=RS256
` + signedAssertion, []string{keyPath}, nil},
		// KIP-1258 (Kafka 4.3+): the client-credentials grant authenticated
		// with a locally signed client assertion instead of a secret.
		{"ClientAssertionSigned", svc, idp.TokenURL, head + `# the default retriever's client credentials grant, with a client assertion (KIP-1258)
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL + `
sasl.oauthbearer.client.credentials.client.id=` + svc + `
sasl.oauthbearer.scope=kafka
` + signedAssertion, []string{keyPath}, nil},
		{"ClientAssertionFile", svc, idp.TokenURL, head + `# ClientCredentialsJwtRetriever with a pre-generated client assertion (KIP-1258)
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.ClientCredentialsJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + idp.TokenURL + `
sasl.oauthbearer.client.credentials.client.id=` + svc + `
sasl.oauthbearer.scope=kafka
sasl.oauthbearer.assertion.file=` + assertionPath + `
`, []string{assertionPath}, writeAssertion},
		{"ClientSecretPrivateCA", "orders-sec", privIdP.TokenURL, strings.Replace(head, "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
			"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ssl.truststore.type='PEM' ssl.truststore.location='"+caPath+"';", 1) + `# client credentials against a token endpoint behind a private CA (JAAS truststore)
sasl.oauthbearer.token.endpoint.url=` + privIdP.TokenURL + `
sasl.oauthbearer.client.credentials.client.id=orders-sec
sasl.oauthbearer.client.credentials.client.secret=s3cr3t-value
sasl.oauthbearer.scope=kafka
`, nil, nil},
	}
	for _, s := range sources {
		for _, c := range produceConsumeClients {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				defer cancel()
				if s.before != nil {
					s.before(t)
				}
				cfg, err := clientprops.Parse(strings.NewReader(s.props))
				require.NoError(t, err)
				src, err := cfg.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{s.allowed}, AllowedFiles: s.files})
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				counted := newCountingSource(src)
				mark := b.LogMark()
				granted := len(idp.Issued())
				c.run(ctx, t, b, counted, strings.ToLower("e2e-oidc-"+s.name+"-"+c.name), 5)

				line, err := b.WaitForLog(ctx, mark, "Successfully authenticate User="+s.principal)
				require.NoError(t, err)
				t.Logf("broker: %s", line)
				assert.Zero(t, failedAuths(b, mark), "no authentication failed")
				assert.Zero(t, counted.errs.Load())
				if s.name == "JWTBearer" {
					// One grant per cache refresh: the cached token served
					// every connection of both clients.
					assert.Equal(t, 1, len(idp.Issued())-granted, "jwt-bearer grants")
				}
				report(t, "%s via %s: %d authentications", s.name, c.name, counted.calls.Load())
			})
		}
	}
}
