package azure_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// refusingClient sends every connection to a closed loopback port (as on
// a machine that is not an Azure VM, where nothing answers at IMDS's
// address) and counts the dials.
func refusingClient(t *testing.T, dials *atomic.Int64) *http.Client {
	to := closedPort(t)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, to)
		},
	}}
}

// A managed identity that cannot be reached fails the first fetch after a
// single request, with an error that says what it means, instead of
// azidentity retrying the refused connection six more times (about 100
// seconds with IMDS's delays) while the Kafka client gives up waiting.
// The cache hands the same error to callers at once during its backoff.
//
// Fails before the transport marked the refusal non-retriable: 7 dials,
// and a transient "could not be reached ...; it is retried" error.
func TestManagedIdentityUnreachableFailsFast(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	src := opened(t)(azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience:   uniqueTarget(t),
		HTTPClient: refusingClient(t, &dials),
		// Millisecond delays, so the old behaviour ends quickly too.
		Retry: fastRetry,
		// A backoff the second call surely falls in: the default's first
		// step is drawn from 0 to 500ms, so under load the second call
		// sometimes came after it and dialled again.
		Cache: &oauthbearer.CacheOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour},
	}))

	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.Equal(t, int64(1), dials.Load(), "one request, no retries inside the fetch")
	assert.False(t, oauthbearer.IsTransient(err), "waiting will not heal it: %v", err)
	var ae *azure.Error
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "no managed identity reachable at 169.254.169.254: not running on Azure, or no identity assigned to this VM/pod")
	assert.Contains(t, err.Error(), "troubleshooting.md#no-managed-identity-reachable")

	// A Kafka client's next attempt gets the cause at once, without a
	// request, while the cache backs off.
	c2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err2 := src.Token(c2)
	require.Error(t, err2)
	assert.NotErrorIs(t, err2, context.DeadlineExceeded)
	assert.Contains(t, err2.Error(), "no managed identity reachable")
	assert.Equal(t, int64(1), dials.Load())
}

// IMDS's own transient answers keep being retried inside the fetch, as
// Azure's guidance says; only unreachable endpoints fail fast. (The IMDS
// emulator's 410 case is in TestManagedIdentityRetries...; this checks
// the classification of a timeout, which may heal.)
func TestManagedIdentityTimeoutIsNotFailFast(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: timeoutErr{}}
		},
	}}
	src := opened(t)(azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience: uniqueTarget(t), HTTPClient: hc,
		Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
	}))
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err), "%v", err)
	assert.Equal(t, int64(3), dials.Load(), "retried inside the fetch")
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
