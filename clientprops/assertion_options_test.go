package clientprops

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// assertionOptions is SourceSpec.Assertion's type, for the tests' want
// values (this file holds the import, so that the other test files keep
// theirs).
type assertionOptions = oauthclient.AssertionOptions

// Kafka's assertion settings in seconds and its jti switch become
// oauthclient's AssertionOptions, and the assertion sent carries them:
// claim.exp.seconds=120 is exp = iat + 120, claim.nbf.seconds=0 is
// nbf = iat (not oauthclient's default 60 s back), and no jti unless
// claim.jti.include=true.
func TestPropertiesAssertionClaimsInKafkaUnits(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	sent := make(chan string, 1)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent <- r.PostFormValue("assertion")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(idp.Close)
	c, err := Parse(strings.NewReader(`bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + idp.URL + `
sasl.oauthbearer.assertion.algorithm=es256
sasl.oauthbearer.assertion.private.key.file=` + keyPath + `
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.exp.seconds=120
sasl.oauthbearer.assertion.claim.nbf.seconds=0
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`))
	require.NoError(t, err)
	assert.Empty(t, c.Source.AssertionFile)
	assert.Equal(t, &assertionOptions{PrivateKeyFile: keyPath, Algorithm: "ES256", Issuer: "orders-svc", Subject: "orders-svc",
		Lifetime: 2 * time.Minute, NotBefore: -1, OmitJTI: true}, c.Source.Assertion)

	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{idp.URL}, AllowedFiles: []string{keyPath}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	a, _, err := jwt.NewParser().ParseUnverified(<-sent, jwt.MapClaims{})
	require.NoError(t, err)
	claims := a.Claims.(jwt.MapClaims)
	assert.Equal(t, "ES256", a.Header["alg"])
	assert.Equal(t, claims["iat"], claims["nbf"])
	assert.Equal(t, claims["iat"].(float64)+120, claims["exp"])
	assert.NotContains(t, claims, "jti")
}

// The spec of a file with an encrypted assertion key prints without the
// passphrase under every fmt verb (SourceSpec.Assertion is a pointer,
// which fmt would otherwise print with Secret's Format off for %s and %q).
func TestSourceSpecNeverPrintsTheAssertionPassphrase(t *testing.T) {
	t.Parallel()
	c, err := Parse(strings.NewReader(`bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=https://idp.example/token
sasl.oauthbearer.assertion.private.key.file=/k.pem
sasl.oauthbearer.assertion.private.key.passphrase=hunter2-passphrase
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`))
	require.NoError(t, err)
	require.Equal(t, oauthclient.Secret("hunter2-passphrase"), c.Source.Assertion.PrivateKeyPassphrase)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{c.Source, &c.Source, *c, c} {
			s := fmt.Sprintf(verb, v)
			assert.Contains(t, s, "/k.pem", verb)
			assert.NotContains(t, s, "hunter2", verb)
		}
	}
}
