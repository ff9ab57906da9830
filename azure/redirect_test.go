package azure_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const (
	redirectTenant = "9d2f0000-0000-4000-8000-0000000000a1"
	redirectClient = "9d2f0000-0000-4000-8000-0000000000c1"
	// federatedToken is the pod's service-account token: the client
	// assertion the workload identity request carries.
	federatedToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a2Fma2E6cHJvZHVjZXIifQ.c2lnbmF0dXJlLWZlZGVyYXRlZC10b2tlbg"
)

var redirectTargets = []struct{ scheme, host string }{
	{"http", redirecttest.TrapHost}, {"https", redirecttest.TrapHost}, {"http", redirecttest.IdPHost},
}

// entraRedirecting serves Entra's OpenID discovery normally and answers
// every token POST with status to location.
func entraRedirecting(b *redirecttest.Bench, t *testing.T, status int, location string) string {
	var base atomic.Value // the server's URL is known once it listens
	discovery := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tb := base.Load().(string) + "/" + redirectTenant
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token_endpoint":         tb + "/oauth2/v2.0/token",
			"authorization_endpoint": tb + "/oauth2/v2.0/authorize",
			"issuer":                 tb + "/v2.0",
			"jwks_uri":               tb + "/discovery/v2.0/keys",
		})
	})
	isPost := func(r *http.Request) bool { return r.Method == http.MethodPost }
	s := b.Serve(t, redirecttest.Redirect(status, location, isPost, discovery), true)
	base.Store(redirecttest.URLAt(s, redirecttest.IdPHost))
	return base.Load().(string)
}

// TestWorkloadIdentityRefusesRedirects: Entra's token endpoint answering
// 307/308 must not make azidentity send the federated token (the
// client_assertion) to the Location.
//
// Fails before the idphttp redirect policy: the trap received the POST
// with client_assertion=<the federated token> and the source returned the
// trap's token.
func TestWorkloadIdentityRefusesRedirects(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, to := range redirectTargets {
			t.Run(fmt.Sprintf("%d/%s/%s", status, to.scheme, to.host), func(t *testing.T) {
				t.Parallel()
				b := redirecttest.New(t)
				base := entraRedirecting(b, t, status, b.TrapURL(to.scheme, to.host))
				file := filepath.Join(t.TempDir(), "token")
				require.NoError(t, os.WriteFile(file, []byte(federatedToken), 0o600))
				client := b.Client()
				src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: "api://kafka", ClientID: redirectClient, TenantID: redirectTenant,
					TokenFilePath: file, AuthorityHost: base + "/", DisableInstanceDiscovery: true, Getenv: func(string) string { return "" },
					HTTPClient: client, Retry: policy.RetryOptions{MaxRetries: -1},
					Cache: &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				tok, err := src.Token(ctx(t))
				assert.Empty(t, tok.Value)
				b.CheckRefused(t, err, base+"/"+redirectTenant+"/oauth2/v2.0/token", to.scheme, to.host, federatedToken)
				assert.Nil(t, client.CheckRedirect, "the caller's client was modified")
			})
		}
	}
}

// TestManagedIdentityRefusesRedirects: IMDS (here: whatever answers at
// 169.254.169.254) answering with a redirect must not make azidentity
// re-send the request, which on App Service carries the identity header
// secret, nor take a token from the Location.
//
// Fails before the idphttp redirect policy: the trap received the request
// and the source returned the trap's token.
func TestManagedIdentityRefusesRedirects(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, to := range redirectTargets[:2] {
			t.Run(fmt.Sprintf("%d/%s", status, to.scheme), func(t *testing.T) {
				t.Parallel()
				b := redirecttest.New(t)
				imds := b.Serve(t, redirecttest.Redirect(status, b.TrapURL(to.scheme, to.host), nil, nil), false)
				b.Route("169.254.169.254:80", imds)
				client := b.Client()
				src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: uniqueTarget(t),
					HTTPClient: client, Retry: fastRetry,
					Cache: &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				tok, err := src.Token(ctx(t))
				assert.Empty(t, tok.Value)
				b.CheckRefused(t, err, "http://169.254.169.254/metadata/identity/oauth2/token", to.scheme, to.host)
				assert.NotContains(t, err.Error(), "api-version", "the endpoint is quoted without its query")
				assert.False(t, strings.Contains(err.Error(), "retried"), "a refused redirect is not retried: %v", err)
				assert.Nil(t, client.CheckRedirect, "the caller's client was modified")
			})
		}
	}
}
