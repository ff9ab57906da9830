package kafkatest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"

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
		Audience: "api://kafka-unreachable", HTTPClient: hc,
		Retry: policy.RetryOptions{},
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

// FirstErrorCase is one row of the per-client "first error" tables: a
// source, and what the Kafka client's first returned error must say.
type FirstErrorCase struct {
	Name   string
	Source func(t *testing.T) oauthbearer.TokenSource
	Check  func(t *testing.T, err error)
}

// FirstErrorCases are the rows every client's table runs: an unreachable
// IMDS, a silent identity provider, and a token (signed by iss for
// another audience) that a broker expecting "kafka" rejects.
func FirstErrorCases(iss Minter) []FirstErrorCase {
	return []FirstErrorCase{
		{"unreachable IMDS", func(t *testing.T) oauthbearer.TokenSource { return UnreachableManagedIdentity(t) },
			func(t *testing.T, err error) { assert.ErrorContains(t, err, CauseUnreachable) }},
		{"silent IdP", func(t *testing.T) oauthbearer.TokenSource { return SilentIdP(t) },
			func(t *testing.T, err error) { assert.ErrorContains(t, err, CauseSilent) }},
		{"rejected token", func(t *testing.T) oauthbearer.TokenSource {
			return &MintingSource{Issuer: iss, Audience: "not-kafka", TTL: time.Hour}
		}, func(t *testing.T, err error) {
			var rej *oauthbearer.RejectedError
			assert.True(t, errors.As(err, &rej), "got %v", err)
		}},
	}
}
