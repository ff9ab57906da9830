package clientprops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The client-credentials grant's signed assertion (KIP-1258) names the
// file's settings as the jwt-bearer kind does, at build time and at a
// fetch, through oauthclient's *OptionError: never
// ClientCredentialsOptions.Assertion.PrivateKeyFile.
func TestClientAssertionErrorsNameTheFileSetting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.pem")
	assertionPath := filepath.Join(dir, "assertion.jwt")
	head := ccHead + "sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n" +
		"sasl.oauthbearer.client.credentials.client.id=orders-svc\n"
	tests := map[string]struct {
		body  string
		fetch bool
		want  string
	}{
		"unreadable key": {
			body: "sasl.oauthbearer.assertion.claim.iss=orders-svc\nsasl.oauthbearer.assertion.claim.sub=orders-svc\n" +
				"sasl.oauthbearer.assertion.private.key.file=" + keyPath + "\n",
			want: "sasl.oauthbearer.assertion.private.key.file (client.properties line 10)",
		},
		"assertion file gone at fetch": {
			body:  "sasl.oauthbearer.assertion.file=" + assertionPath + "\n",
			fetch: true,
			want:  "sasl.oauthbearer.assertion.file (client.properties line 8)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(strings.NewReader(head + tc.body))
			require.NoError(t, err)
			src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{"https://idp.example/token"}, AllowedFiles: []string{keyPath, assertionPath}})
			if tc.fetch {
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				_, err = src.Token(context.Background())
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "Options.")
			assert.ErrorIs(t, err, os.ErrNotExist, "the cause stays reachable")
		})
	}
}
