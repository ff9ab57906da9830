package azure_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// entraExchangeAudience is the audience Entra requires of a federated
// credential's assertion.
const entraExchangeAudience = "api://AzureADTokenExchange"

const (
	wiTenant = "9d2f0000-0000-4000-8000-0000000000a1"
	wiClient = "9d2f0000-0000-4000-8000-0000000000c1"
	wiObject = "9d2f0000-0000-4000-8000-0000000000b1"
	wiSA     = "system:serviceaccount:kafka:producer"
)

// wiBench is a Kubernetes OIDC issuer, an Entra emulator trusting it for
// wiClient, and a federated token file.
type wiBench struct {
	k8s   *idptest.Issuer
	entra *idptest.Entra
	file  string
}

func newWIBench(t *testing.T, opts *idptest.EntraOptions) *wiBench {
	t.Helper()
	k8s := idptest.NewIssuer(t, nil)
	var o idptest.EntraOptions
	if opts != nil {
		o = *opts
	}
	o.Apps = []idptest.EntraApp{{TenantID: wiTenant, ClientID: wiClient, ObjectID: wiObject,
		Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: wiSA}}}}
	b := &wiBench{k8s: k8s, entra: idptest.NewEntra(t, &o), file: filepath.Join(t.TempDir(), "token")}
	b.write(t, time.Hour)
	return b
}

// write puts a fresh service-account token in the file and returns it.
func (b *wiBench) write(t *testing.T, ttl time.Duration) string {
	t.Helper()
	tok := b.k8s.Mint(wiSA, entraExchangeAudience, ttl, nil)
	require.NoError(t, os.WriteFile(b.file, []byte(tok+"\n"), 0o600))
	return tok
}

func (b *wiBench) env() map[string]string {
	return map[string]string{
		azure.EnvClientID: wiClient, azure.EnvTenantID: wiTenant,
		azure.EnvFederatedTokenFile: b.file, azure.EnvAuthorityHost: b.entra.URL,
	}
}

func (b *wiBench) options(env map[string]string) *azure.WorkloadIdentityOptions {
	return &azure.WorkloadIdentityOptions{
		Audience: "api://kafka", Getenv: getenv(env), DisableInstanceDiscovery: true,
		HTTPClient: b.entra.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
	}
}

// tokenRequests counts the requests to the tenant's token endpoint,
// failed or not.
func (b *wiBench) tokenRequests() int {
	path := strings.TrimPrefix(b.entra.TokenURL(wiTenant), b.entra.URL)
	return len(slices.DeleteFunc(b.entra.Requests(), func(r idptest.Request) bool { return r.Path != path }))
}

func TestWorkloadIdentityFromEnvironment(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	log, buf := newLogger()
	o := b.options(b.env())
	o.Cache = &oauthbearer.CacheOptions{Logger: log}
	src := opened(t)(azure.NewWorkloadIdentity(o))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, wiObject, tok.Principal)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
	got := b.entra.Issued()
	require.Len(t, got, 1)
	assert.Equal(t, "api://kafka/.default openid offline_access profile", got[0].Scope, "MSAL adds the OIDC scopes")
	assert.Equal(t, tok.Value, got[0].Token)
	assertNoSecrets(t, buf.String(), tok.Value, got[0].Assertion)
}

func TestWorkloadIdentityExplicitOptionsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	wrong := map[string]string{
		azure.EnvClientID: "wrong-client", azure.EnvTenantID: "wrong-tenant",
		azure.EnvFederatedTokenFile: "/nonexistent", azure.EnvAuthorityHost: "https://login.invalid/",
	}
	o := b.options(wrong)
	o.ClientID, o.TenantID, o.TokenFilePath, o.AuthorityHost = wiClient, wiTenant, b.file, b.entra.URL
	src := opened(t)(azure.NewWorkloadIdentity(o))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, wiObject, tok.Principal)
}

func TestWorkloadIdentityConfigurationErrors(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600)) // a file of blanks is found empty at the first fetch: construction does not read
	tests := map[string]struct {
		change func(env map[string]string, o *azure.WorkloadIdentityOptions)
		want   []string
	}{
		"no client ID":  {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { delete(e, azure.EnvClientID) }, []string{"AZURE_CLIENT_ID is not set", "ClientID"}},
		"no tenant ID":  {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { delete(e, azure.EnvTenantID) }, []string{"AZURE_TENANT_ID is not set", "TenantID"}},
		"no token file": {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { delete(e, azure.EnvFederatedTokenFile) }, []string{"AZURE_FEDERATED_TOKEN_FILE is not set", "TokenFilePath"}},
		"missing file": {func(e map[string]string, _ *azure.WorkloadIdentityOptions) {
			e[azure.EnvFederatedTokenFile] = "/nonexistent/token"
		}, []string{`"/nonexistent/token"`, "no such file"}},
		"empty file":     {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { e[azure.EnvFederatedTokenFile] = empty }, []string{empty, "is empty"}},
		"http authority": {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { e[azure.EnvAuthorityHost] = "http://x" }, []string{`"http://x"`, "https"}},
		"no target":      {func(_ map[string]string, o *azure.WorkloadIdentityOptions) { o.Audience = "" }, []string{"Audience"}},
		"all missing": {func(e map[string]string, _ *azure.WorkloadIdentityOptions) { clear(e) }, []string{
			"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := b.env()
			o := b.options(env)
			tc.change(env, o)
			_, err := azure.NewWorkloadIdentity(o)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "azure: "), err.Error())
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestWorkloadIdentityRereadsRotatedTokenFile(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	first := b.write(t, time.Hour)
	src := opened(t)(azure.NewWorkloadIdentity(b.options(b.env())))
	tok1, err := src.Token(ctx(t))
	require.NoError(t, err)

	// The kubelet rotates the projected token; the next refresh (forced
	// here by a broker rejecting the token) must present the new one and
	// get a new token from Entra, not MSAL's cached one.
	second := b.write(t, time.Hour)
	require.NotEqual(t, first, second)
	src.Invalidate(tok1)
	tok2, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.NotEqual(t, tok1.Value, tok2.Value)
	var assertions []string
	for _, r := range b.entra.Requests() {
		if r.Assertion != "" {
			assertions = append(assertions, r.Assertion)
		}
	}
	assert.Equal(t, []string{first, second}, assertions)
	assert.Equal(t, 2, b.tokenRequests())
}

func TestWorkloadIdentityStaleTokenFile(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	stale := b.write(t, -10*time.Minute)
	src := opened(t)(azure.NewWorkloadIdentity(b.options(b.env())))
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.False(t, oauthbearer.IsTransient(err), "an expired assertion is not fixed by retrying at once")
	var ae *azure.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 700024, ae.Code)
	assert.Equal(t, "invalid_client", ae.OAuthError)
	msg := err.Error()
	assert.Contains(t, msg, "AADSTS700024")
	assert.Contains(t, msg, "stale")
	assert.Contains(t, msg, b.file)
	assert.NotContains(t, msg, "\n")
	assertNoSecrets(t, msg, stale)
}

func TestWorkloadIdentityEntraErrorsExplained(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(b *wiBench, env map[string]string, o *azure.WorkloadIdentityOptions)
		code   int
		want   string
	}{
		"unknown client": {func(_ *wiBench, e map[string]string, _ *azure.WorkloadIdentityOptions) {
			e[azure.EnvClientID] = "00000000-0000-4000-8000-00000000dead"
		}, 700016, "AZURE_CLIENT_ID"},
		"unknown tenant": {func(_ *wiBench, e map[string]string, _ *azure.WorkloadIdentityOptions) {
			e[azure.EnvTenantID] = "00000000-0000-4000-8000-00000000beef"
		}, 90002, "AZURE_TENANT_ID"},
		"wrong service account": {func(b *wiBench, _ map[string]string, _ *azure.WorkloadIdentityOptions) {
			require.NoError(t, os.WriteFile(b.file, []byte(b.k8s.Mint("system:serviceaccount:kafka:other", entraExchangeAudience, time.Hour, nil)), 0o600))
		}, 700213, "federated identity credential"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newWIBench(t, nil)
			env := b.env()
			o := b.options(env)
			tc.change(b, env, o)
			src := opened(t)(azure.NewWorkloadIdentity(o))
			_, err := src.Token(ctx(t))
			require.Error(t, err)
			assert.False(t, oauthbearer.IsTransient(err), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			var ae *azure.Error
			if tc.code == 90002 {
				// Discovery fails before the token request; MSAL keeps
				// only the description.
				assert.Contains(t, err.Error(), "AADSTS90002")
				return
			}
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Code)
		})
	}
}

func TestWorkloadIdentityOneRequestPerRefresh(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	b.entra.FailNext(1, idptest.Fault{Latency: 50 * time.Millisecond})
	src := opened(t)(azure.NewWorkloadIdentity(b.options(b.env())))
	for round := 1; round <= 2; round++ {
		tok := sameTokenForAll(t, src)
		assert.Equal(t, round, b.tokenRequests())
		src.Invalidate(tok)
	}
}

// Fails on main: with Retry left zero, azcore retried the 503 inside the
// fetch (after its own delay, without jitter), so one fetch sent two
// requests and succeeded. 429 and 5xx are the cache's to retry, paced by
// its backoff: one fetch sends one request and fails transient. A Retry
// that names status codes is honoured.
func TestWorkloadIdentityLeaves5xxToTheCache(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	o := b.options(b.env())
	o.Retry = policy.RetryOptions{}
	b.entra.FailNext(1, idptest.Fault{Status: http.StatusServiceUnavailable, Path: strings.TrimPrefix(b.entra.TokenURL(wiTenant), b.entra.URL)})
	src := opened(t)(azure.NewWorkloadIdentity(o))
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err), "%v", err)
	assert.Equal(t, 1, b.tokenRequests(), "one fetch, one request")

	b = newWIBench(t, nil)
	o = b.options(b.env())
	o.Retry = policy.RetryOptions{StatusCodes: []int{http.StatusServiceUnavailable}, RetryDelay: time.Millisecond}
	b.entra.FailNext(1, idptest.Fault{Status: http.StatusServiceUnavailable, Path: strings.TrimPrefix(b.entra.TokenURL(wiTenant), b.entra.URL)})
	src = opened(t)(azure.NewWorkloadIdentity(o))
	_, err = src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 2, b.tokenRequests(), "the caller's StatusCodes retried inside the fetch")
}
