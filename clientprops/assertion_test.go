package clientprops

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// KIP-1258 as Kafka 4.4's ClientCredentialsRequestFormatterFactory
// chooses: the file, else a signed assertion when claim.iss is present,
// else the secret; what Kafka ignores is listed in Config.Ignored.
func TestPropertiesClientAssertionChoice(t *testing.T) {
	t.Parallel()
	ep := "sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n"
	tests := map[string]struct {
		body        string
		file        string
		want        *assertionOptions
		ignored     []string
		secret      bool
		filesLinked []string
	}{
		"file, client ID optional": {body: ep + "sasl.oauthbearer.assertion.file=/run/a.jwt\n",
			file: "/run/a.jwt", filesLinked: []string{"sasl.oauthbearer.assertion.file"}},
		"signed": {body: ep + "sasl.oauthbearer.assertion.claim.iss=svc\nsasl.oauthbearer.assertion.private.key.file=/k.pem\nsasl.oauthbearer.assertion.template.file=/t.json\n",
			want:        &assertionOptions{Issuer: "svc", PrivateKeyFile: "/k.pem", TemplateFile: "/t.json", Algorithm: "RS256", OmitJTI: true},
			filesLinked: []string{"sasl.oauthbearer.assertion.private.key.file", "sasl.oauthbearer.assertion.template.file"}},
		"both: file wins": {body: ep + "sasl.oauthbearer.assertion.claim.iss=svc\nsasl.oauthbearer.assertion.private.key.file=/k.pem\nsasl.oauthbearer.assertion.file=/run/a.jwt\n",
			file:        "/run/a.jwt",
			want:        &assertionOptions{Issuer: "svc", PrivateKeyFile: "/k.pem", Algorithm: "RS256", OmitJTI: true},
			ignored:     []string{"sasl.oauthbearer.assertion.claim.iss (line 7)"},
			filesLinked: []string{"sasl.oauthbearer.assertion.file"}},
		"no iss: secret used": {body: ep + "sasl.oauthbearer.client.credentials.client.id=c\nsasl.oauthbearer.client.credentials.client.secret=hunter2\nsasl.oauthbearer.assertion.private.key.file=/k.pem\n",
			secret: true, ignored: []string{"sasl.oauthbearer.assertion.private.key.file (line 9)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(ccHead + tc.body))
			require.NoError(t, err)
			assert.Equal(t, SourceClientCredentials, c.Source.Kind)
			assert.Equal(t, tc.file, c.Source.AssertionFile)
			assert.Equal(t, tc.want, c.Source.Assertion)
			assert.Equal(t, tc.secret, c.Source.ClientSecret != "")
			require.Len(t, c.Ignored, len(tc.ignored))
			for i, ig := range tc.ignored {
				assert.Contains(t, c.Ignored[i], ig)
			}
			var keys []string
			for _, f := range c.files {
				keys = append(keys, f.Key)
			}
			assert.Equal(t, tc.filesLinked, keys)
		})
	}
}

// A KIP-1258 file builds: the assertion files are refused until the
// allow-list of files (option or environment variable, as Kafka's system
// property) lists them, and the built source authenticates with the
// signed assertion and warns, like Kafka, when a file is given too.
func TestPropertiesClientAssertionBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, keyPath := rsaKeyFile(t, dir)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: idptest.NewIssuer(t, nil), Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})
	props := ccHead + "sasl.oauthbearer.token.endpoint.url=" + srv.TokenURL + `
sasl.oauthbearer.client.credentials.client.id=orders-svc
sasl.oauthbearer.client.credentials.client.secret=hunter2
sasl.oauthbearer.assertion.private.key.file=` + keyPath + `
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.aud=` + srv.TokenURL + `
sasl.oauthbearer.assertion.claim.jti.include=true
`
	c, err := Parse(strings.NewReader(props))
	require.NoError(t, err)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, Getenv: getenv})
	require.ErrorIs(t, err, ErrFileNotAllowed)
	assert.Contains(t, err.Error(), "line 9: sasl.oauthbearer.assertion.private.key.file")
	assert.Contains(t, err.Error(), AllowedFilesEnv)
	assert.NotContains(t, err.Error(), "hunter2")
	env[AllowedFilesEnv] = " /elsewhere , " + keyPath + " "
	var logs bytes.Buffer
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, Getenv: getenv, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "orders-svc", tok.Principal)
	assert.NotContains(t, logs.String(), "level=WARN")
	// The option overrides the environment, and a non-nil empty list
	// allows nothing.
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, Getenv: getenv, AllowedFiles: []string{}})
	require.ErrorIs(t, err, ErrFileNotAllowed)
	assert.Contains(t, err.Error(), "BuildOptions.AllowedFiles (0 entries")
}

// Paths are compared as Kafka compares java.io.File.getAbsolutePath:
// relative paths joined to the working directory, repeated and trailing
// slashes dropped, . and .. kept.
func TestJavaAbsolutePath(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)
	for in, want := range map[string]string{
		"/a//b/":    "/a/b",
		"/a/../b":   "/a/../b",
		"key.pem":   wd + "/key.pem",
		"./key.pem": wd + "/./key.pem",
		"/":         "/",
	} {
		assert.Equal(t, want, javaAbsolutePath(in), in)
	}
}
