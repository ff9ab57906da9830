package azure_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/stretchr/testify/require"
)

// Copied from the azure module's tests: the broker tests moved here so
// that the azure module's go.mod needs no Kafka client.

var targetSeq atomic.Int64

// uniqueTarget returns an audience no other test uses, because
// azidentity's managed-identity token cache is process-global.
func uniqueTarget(t *testing.T) string {
	return fmt.Sprintf("api://kafka-%d-%d", time.Now().UnixNano(), targetSeq.Add(1))
}

// fastRetry keeps azidentity's retries but with millisecond delays.
var fastRetry = policy.RetryOptions{MaxRetries: 6, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}

func closeCache(t *testing.T, c *oauthbearer.Cache) {
	t.Cleanup(func() { _ = c.Close() })
}

const (
	wiTenant = "9d2f0000-0000-4000-8000-0000000000a1"
	wiClient = "9d2f0000-0000-4000-8000-0000000000c1"
	wiObject = "9d2f0000-0000-4000-8000-0000000000b1"
	wiSA     = "system:serviceaccount:kafka:producer"
)

// wiBench is a Kubernetes OIDC issuer, an Entra emulator trusting it for
// wiClient, and a federated token file.
type wiBench struct {
	k8s   *emu.Issuer
	entra *emu.Entra
	file  string
}

func newWIBench(t *testing.T, opts *emu.EntraOptions) *wiBench {
	t.Helper()
	k8s := emu.NewIssuer(t, nil)
	var o emu.EntraOptions
	if opts != nil {
		o = *opts
	}
	o.Apps = []emu.EntraApp{{TenantID: wiTenant, ClientID: wiClient, ObjectID: wiObject,
		Federated: []emu.FederatedCredential{{Issuer: k8s.IssuerURL(), Subject: wiSA}}}}
	b := &wiBench{k8s: k8s, entra: emu.NewEntra(t, &o), file: filepath.Join(t.TempDir(), "token")}
	b.write(t, time.Hour)
	return b
}

// write puts a fresh service-account token in the file and returns it.
func (b *wiBench) write(t *testing.T, ttl time.Duration) string {
	t.Helper()
	tok := b.k8s.Mint(wiSA, emu.EntraTokenExchangeAudience, ttl, nil)
	require.NoError(t, os.WriteFile(b.file, []byte(tok+"\n"), 0o600))
	return tok
}

func (b *wiBench) env() map[string]string {
	return map[string]string{
		azure.EnvClientID: wiClient, azure.EnvTenantID: wiTenant,
		azure.EnvFederatedTokenFile: b.file, azure.EnvAuthorityHost: b.entra.URL,
	}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func (b *wiBench) options(env map[string]string) *azure.WorkloadIdentityOptions {
	return &azure.WorkloadIdentityOptions{
		Audience: "api://kafka", Getenv: getenv(env), DisableInstanceDiscovery: true,
		HTTPClient: b.entra.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
	}
}
