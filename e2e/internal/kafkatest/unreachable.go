package kafkatest

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// UnreachableManagedIdentity returns the managed identity source of a
// machine that is not an Azure VM: its requests to IMDS's address go to a
// closed loopback port, so the connection is refused, with IMDS's default
// retry policy (6 retries, 2s up to 25s apart). It is closed when t ends.
func UnreachableManagedIdentity(t testing.TB) *oauthbearer.Cache {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, closed)
		},
	}}
	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Target: "api://kafka-unreachable", HTTPClient: hc,
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// SilentIdP returns a cached source whose identity provider never answers
// (IMDS blocked by a firewall that drops packets): every fetch runs until
// its context ends. It is closed when t ends.
func SilentIdP(t testing.TB) *oauthbearer.Cache {
	t.Helper()
	src, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		<-ctx.Done()
		return oauthbearer.Token{}, oauthbearer.Transient(ctx.Err(), 0)
	}), &oauthbearer.CacheOptions{Name: "silent idp"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// CauseUnreachable and CauseSilent are what the first error of a Kafka
// client must contain for the sources above.
const (
	CauseUnreachable = "no managed identity reachable at 169.254.169.254: not running on Azure, or no identity assigned to this VM/pod"
	CauseSilent      = "the first fetch has been running for"
)
