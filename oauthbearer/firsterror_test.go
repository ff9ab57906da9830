package oauthbearer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// A failure that waiting will not heal reaches every caller during the
// backoff at once, with its cause, while the identity provider is asked
// again only once the backoff ends.
//
// Fails before the cache returned permanent failures at once: the second
// caller waited for the delayed fetch until its context ended and got
// "gave up waiting".
func TestCachePermanentFailureReturnsAtOnceDuringBackoff(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, nil)
	cause := errors.New("azure: managed identity: no managed identity reachable")
	idp.failNext(cause)
	_, err := c.Token(context.Background())
	require.ErrorIs(t, err, cause)

	// A caller with a short deadline, as a Kafka client's: the fake clock
	// never moves, so the backoff never ends on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Token(ctx)
	require.ErrorIs(t, err, cause)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller was answered, not timed out")
	assert.Contains(t, err.Error(), "the next attempt is in")
	assert.Equal(t, int64(1), idp.fetches.Load(), "no request to the identity provider during the backoff")

	// After the backoff the next caller fetches again, and succeeds.
	clock.Advance(time.Minute)
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(2), idp.fetches.Load())
}

// Transient failures keep the old contract: the caller waits for the retry.
func TestCacheTransientFailureWaitsForRetry(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, nil)
	idp.failNext(oauthbearer.Transient(errIdPDown, 0))
	_, err := c.Token(context.Background())
	require.ErrorIs(t, err, errIdPDown)
	done := make(chan error, 1)
	go func() { _, err := c.Token(context.Background()); done <- err }()
	for deadline := time.Now().Add(10 * time.Second); clock.Pending() == 0; time.Sleep(time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the caller never scheduled the retry")
	}
	clock.Advance(time.Minute)
	require.NoError(t, <-done)
	assert.Equal(t, int64(2), idp.fetches.Load())
}

// A caller that gives up while the first fetch still runs (a source
// retrying an unreachable identity provider inside one fetch) learns that
// the fetch is still running and how long it has been, not just
// "context deadline exceeded".
//
// Fails before the cache described the running fetch: the error was
// "gave up waiting for a token: context deadline exceeded".
func TestCacheGaveUpNamesTheRunningFetch(t *testing.T) {
	t.Parallel()
	c, idp, clock, _ := newTestCache(t, time.Hour, nil)
	idp.hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Token(ctx); done <- err }()
	waitStarted(t, idp)
	clock.Advance(12 * time.Second)
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "the first fetch has been running for 12s without an answer")
	assert.Contains(t, err.Error(), "troubleshooting.md#gave-up-waiting-for-a-token")
}

// The core checks RFC 7628's syntax only: Confluent Cloud's ID shapes
// are confluent.WithExtensions' rule (tested there), so a value that is
// valid SASL but not a Confluent ID passes here.
func TestWithExtensionsChecksSyntaxOnly(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "a.b.c", Expiry: epoch})
	_, err := oauthbearer.WithExtensions(src, map[string]string{"identityPoolId": "pol-7yzk", "logicalCluster": "lkc w25n5g", "traceId": "any thing"})
	require.NoError(t, err)
	_, err = oauthbearer.WithExtensions(src, map[string]string{"logicalCluster": "lkc\x00"})
	var ee *oauthbearer.ExtensionError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "logicalCluster", ee.Key)
}
