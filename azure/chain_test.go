package azure_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// noIMDS is a transport on a machine without IMDS.
type noIMDS struct{ next http.RoundTripper }

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (n noIMDS) NoMetadataProxy() {}

func (n noIMDS) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() == "169.254.169.254" {
		return nil, errors.New("dial tcp 169.254.169.254:80: connect: no route to host")
	}
	return n.next.RoundTrip(r)
}

// withoutIMDS is c on a machine without IMDS.
func withoutIMDS(c *http.Client) *http.Client {
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	return &http.Client{Transport: noIMDS{next}}
}

func TestDefaultChainPicksWorkloadIdentity(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	log, buf := newLogger()
	src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
		Audience: "api://kafka", Getenv: getenv(b.env()), DisableInstanceDiscovery: true, DisableAzureCLI: true, Cache: &oauthbearer.CacheOptions{Logger: log},
		HTTPClient: withoutIMDS(b.entra.Client()), Retry: policy.RetryOptions{MaxRetries: -1},
	}))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, wiObject, tok.Principal)
	assert.Contains(t, buf.String(), "step=\"workload identity\"")
	// The chosen step is kept: a refresh goes straight to it.
	src.Invalidate(tok)
	_, err = src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 2, b.tokenRequests())
	assertNoSecrets(t, buf.String(), tok.Value)
}

func TestDefaultChainFallsBackToManagedIdentity(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
		Audience: uniqueTarget(t), Getenv: getenv(nil), DisableAzureCLI: true,
		HTTPClient: m.Client(), Retry: fastRetry,
	}))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, m.SystemAssigned.ObjectID, tok.Principal)

	// A rejected token reaches the managed-identity step, whose
	// process-wide azidentity cache would otherwise hand it back.
	before := len(m.Requests()) // the probe and the fetch
	src.Invalidate(tok)
	fresh, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.NotEqual(t, tok.Value, fresh.Value)
	assert.Equal(t, before+1, len(m.Requests()))
}

func TestDefaultChainUserAssignedFromClientID(t *testing.T) {
	t.Parallel()
	user := idptest.ManagedIdentity{ClientID: "7a7a0000-0000-4000-8000-0000000000c1", ObjectID: "7a7a0000-0000-4000-8000-0000000000b1"}
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{DisableSystemAssigned: true, UserAssigned: []idptest.ManagedIdentity{user}})
	src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
		Audience: uniqueTarget(t), Getenv: getenv(map[string]string{azure.EnvClientID: user.ClientID}), DisableAzureCLI: true,
		HTTPClient: m.Client(), Retry: fastRetry,
	}))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, user.ObjectID, tok.Principal)
}

func TestDefaultChainListsEveryStep(t *testing.T) {
	t.Parallel()
	src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
		Audience: "api://kafka", Getenv: getenv(nil), DisableAzureCLI: true,
		HTTPClient: withoutIMDS(http.DefaultClient),
	}))
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	for _, w := range []string{
		"azure: default chain",
		"environment: AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set",
		"workload identity: azure: workload identity: AZURE_CLIENT_ID is not set",
		"managed identity: IMDS at 169.254.169.254 did not answer",
	} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestDefaultChainStopsAtAConfiguredStepThatFails(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	env := b.env()
	env["AZURE_CLIENT_SECRET"] = "very-secret-value"
	src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
		Audience: "api://kafka", Getenv: getenv(env), DisableInstanceDiscovery: true, DisableAzureCLI: true,
		HTTPClient: b.entra.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
	}))
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.False(t, oauthbearer.IsTransient(err))
	var ae *azure.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 7000215, ae.Code)
	assert.Contains(t, err.Error(), "environment service principal")
	assertNoSecrets(t, err.Error(), "very-secret-value")
	assert.Empty(t, b.entra.Issued(), "the chain must not fall through to workload identity")
}
