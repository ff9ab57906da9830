package azure_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/internal/proxytest"
)

// Workload identity reaches Entra ID through the proxy an idpclient
// client names (observed at proxytest's CONNECT proxy), trusting Entra's
// certificate through the client's CA option.
func TestWorkloadIdentityThroughProxy(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	proxy := proxytest.NewProxy(t, nil)
	hc, err := idpclient.New(&idpclient.Options{RootCAPEM: b.entra.CertificatePEM(), ReplaceSystemRoots: true, Proxy: proxy.URL})
	require.NoError(t, err)
	// The gate never proxies a loopback host: Entra is reached under
	// the name the proxy dials at 127.0.0.1.
	env := b.env()
	env[azure.EnvAuthorityHost] = proxytest.ThroughProxy(b.entra.URL)
	o := b.options(env)
	o.HTTPClient = hc
	src := opened(t)(azure.NewWorkloadIdentity(o))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, wiObject, tok.Principal)
	require.NotEmpty(t, proxy.Passed())
	for _, h := range proxy.Passed() {
		assert.Equal(t, strings.TrimPrefix(proxytest.ThroughProxy(b.entra.URL), "https://"), h)
	}
}
