package oauthbearer_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// stuckSource ignores its context: its first call blocks until release is
// closed (a read from a FIFO, a library without cancellation); later calls
// succeed.
type stuckSource struct {
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
}

// releaseAtCleanup lets the abandoned goroutine end; registered after the
// cache's Close so that it runs first.
func (s *stuckSource) releaseAtCleanup(t *testing.T) { t.Cleanup(func() { close(s.release) }) }

func newStuckSource() *stuckSource {
	return &stuckSource{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (s *stuckSource) Token(context.Context) (oauthbearer.Token, error) {
	n := s.calls.Add(1)
	s.started <- struct{}{}
	if n == 1 {
		<-s.release
	}
	return oauthbearer.Token{Value: "eyJhbGciOiJub25lIn0.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
}

// Fails before fetches were abandoned: the caller, and every later one,
// waited for the stuck source forever.
func TestCacheAbandonsSourceIgnoringItsContext(t *testing.T) {
	t.Parallel()
	src := newStuckSource()
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{
		FetchTimeout: 50 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	src.releaseAtCleanup(t)

	err = leakcheck.Returns(t, "first Token (a source ignoring its context pins the cache)", func() error { _, err := c.Token(context.Background()); return err })
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "did not answer within 50ms")
	assert.True(t, oauthbearer.IsTransient(err))

	// A later call starts a new fetch, which succeeds, while the first
	// call is still stuck.
	tok := leakcheck.Returns(t, "second Token", func() oauthbearer.Token {
		tok, err := c.Token(context.Background())
		assert.NoError(t, err)
		return tok
	})
	assert.False(t, tok.IsZero())
	assert.EqualValues(t, 2, src.calls.Load())
}

// Fails before fetches were abandoned: Close waited for the stuck source
// forever.
func TestCacheCloseReturnsWhileSourceIgnoresItsContext(t *testing.T) {
	t.Parallel()
	src := newStuckSource()
	c, err := oauthbearer.NewCache(src, nil) // FetchTimeout 30s: Close comes first
	require.NoError(t, err)
	src.releaseAtCleanup(t)
	waiter := make(chan error, 1)
	go func() { _, err := c.Token(context.Background()); waiter <- err }()
	<-src.started

	require.NoError(t, leakcheck.Returns(t, "Close", c.Close))
	err = leakcheck.Returns(t, "the waiting caller", func() error { return <-waiter })
	require.Error(t, err)
}
