package clientprops

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
)

// Errors of a jwt-bearer source built from a client.properties name the
// file's key and line, never a Go option field (JWTBearerOptions.Assertion.Subject):
// at build time and at fetch time.
func TestJWTBearerErrorsNameTheFileSetting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, keyPath := rsaKeyFile(t, dir)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	p521Path := testpki.KeyFile(t, filepath.Join(dir, "p521.pem"), p521)
	weakPath := testpki.KeyFile(t, filepath.Join(dir, "weak.pem"), testpki.WeakRSAKey(t))
	head := ccHead + "sasl.oauthbearer.jwt.retriever.class=" + jwtBearerRetrieverClass + "\n" +
		"sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n"
	tests := map[string]struct {
		body  string
		fetch bool     // the error comes from the first fetch, not the build
		want  []string // substrings of the error
	}{
		"no subject": {
			body: "sasl.oauthbearer.assertion.private.key.file=" + keyPath + "\nsasl.oauthbearer.assertion.claim.iss=orders\n",
			want: []string{"sasl.oauthbearer.assertion.claim.iss (client.properties line 9) and sasl.oauthbearer.assertion.claim.sub must both be set", "sasl.oauthbearer.assertion.template.file"},
		},
		"unreadable key": {
			body: "sasl.oauthbearer.assertion.private.key.file=" + filepath.Join(dir, "missing.pem") + "\nsasl.oauthbearer.assertion.claim.iss=orders\nsasl.oauthbearer.assertion.claim.sub=orders\n",
			want: []string{"sasl.oauthbearer.assertion.private.key.file (client.properties line 8) \"", "\" cannot be read"},
		},
		"algorithm does not match the key": {
			body: "sasl.oauthbearer.assertion.private.key.file=" + keyPath + "\nsasl.oauthbearer.assertion.algorithm=ES256\nsasl.oauthbearer.assertion.claim.iss=o\nsasl.oauthbearer.assertion.claim.sub=o\n",
			want: []string{"sasl.oauthbearer.assertion.algorithm (client.properties line 9) is \"ES256\" but the key signs RS256"},
		},
		"key on a curve assertions cannot use": {
			body: "sasl.oauthbearer.assertion.private.key.file=" + p521Path + "\nsasl.oauthbearer.assertion.claim.iss=o\nsasl.oauthbearer.assertion.claim.sub=o\n",
			want: []string{"sasl.oauthbearer.assertion.private.key.file (client.properties line 8) is an ECDSA P-521 key; it must be RSA (RS256) or ECDSA on P-256 (ES256) or P-384 (ES384)"},
		},
		// Fails before sign named the key by its file: the error named
		// JWTBearerOptions.Assertion.PrivateKey, a Go field.
		"key file that cannot sign": {
			body:  "sasl.oauthbearer.assertion.private.key.file=" + weakPath + "\nsasl.oauthbearer.assertion.claim.iss=o\nsasl.oauthbearer.assertion.claim.sub=o\n",
			fetch: true,
			want:  []string{"signing the assertion failed (*rsa.PrivateKey); check sasl.oauthbearer.assertion.private.key.file (client.properties line 8)"},
		},
		"assertion file gone at fetch": {
			body:  "sasl.oauthbearer.assertion.file=" + filepath.Join(dir, "assertion.jwt") + "\n",
			fetch: true,
			want:  []string{"sasl.oauthbearer.assertion.file (client.properties line 8)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(strings.NewReader(head + tc.body))
			require.NoError(t, err)
			src, err := c.NewSource(&BuildOptions{
				AllowedURLs:  []string{"https://idp.example/token"},
				AllowedFiles: []string{keyPath, p521Path, weakPath, filepath.Join(dir, "missing.pem"), filepath.Join(dir, "assertion.jwt")},
			})
			if tc.fetch {
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				_, err = src.Token(context.Background())
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "Options.")
		})
	}
}

// A retriever class with a typo at its end is quoted whole, so the typo
// shows (the class names are longer than 64 characters).
func TestRetrieverTypoQuotedWhole(t *testing.T) {
	t.Parallel()
	typo := "org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetreiver"
	_, err := Parse(strings.NewReader("bootstrap.servers=kafka:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n" +
		"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n" +
		"sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler\n" +
		"sasl.oauthbearer.jwt.retriever.class=" + typo + "\nsasl.oauthbearer.token.endpoint.url=https://idp.example/token\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 6: sasl.oauthbearer.jwt.retriever.class")
	assert.Contains(t, err.Error(), `"`+typo+`"`)
}

// A resource or scope holding several values is refused at its line, not
// later by the azure module as "Audience ... holds more than one value".
func TestAzureAudienceWithSeveralValues(t *testing.T) {
	t.Parallel()
	head := "bootstrap.servers=kafka:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\nsasl.login.callback.handler.class=" + azureHandlerClass + "\n"
	_, err := Parse(strings.NewReader(head + "sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=a%20b\n" +
		"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 5: sasl.oauthbearer.token.endpoint.url: the resource parameter "a b" holds more than one value`)
	_, err = Parse(strings.NewReader(head + "sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/t1/oauth2/v2.0/token\n" +
		"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required useWorkloadIdentity='true' scope='api://a/.default,api://b/.default';\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 6: sasl.jaas.config: option scope "api://a/.default,api://b/.default" holds more than one value`)
}
