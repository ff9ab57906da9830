package clientprops

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// A client.properties for a pod's projected service-account token, as a
// Java user writes it for Kafka 4.4 (FileJwtRetriever), parses into the
// token-file kind and builds a source that serves the file's JWT.
func TestPropertiesTokenFile(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	path := filepath.Join(t.TempDir(), "kafka-token")
	tok := iss.Mint("system:serviceaccount:orders:writer", "kafka", time.Hour, nil)
	require.NoError(t, os.WriteFile(path, []byte(tok), 0o600))
	props := `# Kafka 4.4: OAuthBearerLoginCallbackHandler with
# org.apache.kafka.common.security.oauthbearer.FileJwtRetriever reads the
# projected service-account token the kubelet rotates.
` + kafkaHead + `sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.FileJwtRetriever
sasl.oauthbearer.token.endpoint.url=file:` + path + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`
	c, err := Parse(strings.NewReader(props))
	require.NoError(t, err)
	assert.Equal(t, SourceTokenFile, c.Source.Kind)
	assert.Equal(t, path, c.Source.TokenFile)
	// Kafka 4 requires the file: URL on the allow-list too (CVE-2025-27817
	// was an arbitrary file read through this setting).
	_, err = c.NewSource(&BuildOptions{Getenv: func(string) string { return "" }})
	require.ErrorIs(t, err, ErrURLNotAllowed)
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{"file:" + path}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	got, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok, got.Value)
}

// A client.properties for the jwt-bearer grant (JwtBearerJwtRetriever,
// KIP-1139) parses with Kafka 4.4's defaults and builds a source that the
// emulator's strict RFC 7523 endpoint accepts.
func TestPropertiesJWTBearer(t *testing.T) {
	t.Parallel()
	key, keyPath := rsaKeyFile(t, t.TempDir())
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: idptest.NewIssuer(t, nil), Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})
	props := `# Kafka 4.4: org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
# signs an assertion with our private key (RFC 7523 jwt-bearer grant).
` + kafkaHead + `sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + srv.TokenURL + `
sasl.oauthbearer.assertion.algorithm=rs256
sasl.oauthbearer.assertion.private.key.file=` + keyPath + `
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.aud=` + srv.TokenURL + `
sasl.oauthbearer.assertion.claim.jti.include=true
sasl.oauthbearer.scope=kafka
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`
	c, err := Parse(strings.NewReader(props))
	require.NoError(t, err)
	assert.Equal(t, SourceJWTBearer, c.Source.Kind)
	assert.Equal(t, &assertionOptions{PrivateKeyFile: keyPath, Algorithm: "RS256", Issuer: "orders-svc", Subject: "orders-svc",
		Audience: srv.TokenURL}, c.Source.Assertion)
	assert.Equal(t, "kafka", c.Source.Scope)
	// Kafka 4.4 reads the key only if it is on the allow-list of files.
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, Getenv: func(string) string { return "" }})
	require.ErrorIs(t, err, ErrFileNotAllowed)
	var pe *PropertyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "sasl.oauthbearer.assertion.private.key.file", pe.Key)
	assert.Equal(t, 10, pe.Line)
	assert.Contains(t, err.Error(), keyPath)
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, AllowedFiles: []string{keyPath}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	got, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "orders-svc", got.Principal)
}

// Unknown or unsupported values are errors naming the key and the line;
// the passphrase is never quoted.
func TestPropertiesRetrieverErrors(t *testing.T) {
	t.Parallel()
	head := "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n" +
		"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n" +
		"sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler\n"
	jb := "sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever\n" +
		"sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n"
	tests := map[string]struct {
		body, key string
		line      int
	}{
		"unknown retriever":     {"sasl.oauthbearer.jwt.retriever.class=com.example.MyRetriever\nsasl.oauthbearer.token.endpoint.url=https://idp/t\n", "sasl.oauthbearer.jwt.retriever.class", 5},
		"file retriever https":  {"sasl.oauthbearer.jwt.retriever.class=" + fileRetrieverClass + "\nsasl.oauthbearer.token.endpoint.url=https://idp/t\n", "sasl.oauthbearer.token.endpoint.url", 6},
		"file url with host":    {"sasl.oauthbearer.token.endpoint.url=file://host/t\n", "sasl.oauthbearer.token.endpoint.url", 5},
		"bad algorithm":         {jb + "sasl.oauthbearer.assertion.algorithm=HS256\nsasl.oauthbearer.assertion.private.key.file=/k\n", "sasl.oauthbearer.assertion.algorithm", 7},
		"exp out of range":      {jb + "sasl.oauthbearer.assertion.claim.exp.seconds=90000\nsasl.oauthbearer.assertion.private.key.file=/k\n", "sasl.oauthbearer.assertion.claim.exp.seconds", 7},
		"nbf not a number":      {jb + "sasl.oauthbearer.assertion.claim.nbf.seconds=1m\nsasl.oauthbearer.assertion.private.key.file=/k\n", "sasl.oauthbearer.assertion.claim.nbf.seconds", 7},
		"unknown assertion key": {jb + "sasl.oauthbearer.assertion.private.key.pem=x\n", "sasl.oauthbearer.assertion.private.key.pem", 7},
		"signed without key":    {"sasl.oauthbearer.token.endpoint.url=https://idp/t\nsasl.oauthbearer.assertion.claim.iss=svc\nsasl.oauthbearer.assertion.private.key.passphrase=hunter2\n", "sasl.oauthbearer.assertion.claim.iss", 6},
		"blank issuer":          {"sasl.oauthbearer.token.endpoint.url=https://idp/t\nsasl.oauthbearer.assertion.claim.iss= \nsasl.oauthbearer.assertion.private.key.file=/k\n", "sasl.oauthbearer.assertion.claim.iss", 6},
		"jti not bool":          {jb + "sasl.oauthbearer.assertion.claim.jti.include=yes please\nsasl.oauthbearer.assertion.private.key.file=/k\n", "sasl.oauthbearer.assertion.claim.jti.include", 7},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(head + tc.body))
			var pe *PropertyError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tc.key, pe.Key)
			assert.Equal(t, tc.line, pe.Line)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.Contains(t, err.Error(), "troubleshooting.md#oidc-client-properties")
		})
	}
}
