package oauthbearer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	obstest.Rejections // Invalidated and Rejected
	mu                 sync.Mutex
	opened             int
	closed             int
	starts             []oauthbearer.FetchEvent
	ends               []oauthbearer.RefreshEvent
	waited             int
	linked             int // Waited calls whose fetch context is the one FetchStarted returned
	requests           []oauthbearer.RequestResult
	reqInFetches       int // requests whose context descends from a fetch's
}

type fetchMark struct{}

func (r *recorder) CacheOpened(*oauthbearer.Cache) { r.mu.Lock(); r.opened++; r.mu.Unlock() }
func (r *recorder) CacheClosed(*oauthbearer.Cache) { r.mu.Lock(); r.closed++; r.mu.Unlock() }
func (r *recorder) FetchStarted(ctx context.Context, ev oauthbearer.FetchEvent) context.Context {
	r.mu.Lock()
	r.starts = append(r.starts, ev)
	r.mu.Unlock()
	return context.WithValue(ctx, fetchMark{}, len(r.starts))
}
func (r *recorder) FetchEnded(ctx context.Context, ev oauthbearer.RefreshEvent) {
	r.mu.Lock()
	r.ends = append(r.ends, ev)
	r.mu.Unlock()
}
func (r *recorder) Waited(_, fetch context.Context) {
	r.mu.Lock()
	r.waited++
	if fetch.Value(fetchMark{}) != nil {
		r.linked++
	}
	r.mu.Unlock()
}
func (r *recorder) RequestStarted(ctx context.Context, _ oauthbearer.RequestInfo) context.Context {
	return ctx
}
func (r *recorder) RequestEnded(ctx context.Context, info oauthbearer.RequestInfo, res oauthbearer.RequestResult) {
	r.mu.Lock()
	r.requests = append(r.requests, res)
	if ctx.Value(fetchMark{}) != nil && info.Method == "POST" && info.ServerAddress == "127.0.0.1" {
		r.reqInFetches++
	}
	r.mu.Unlock()
}

// TestObserverSeesEveryEvent drives the shared script (waited fetch,
// failed background refreshes, rejection, invalidation) and checks each
// hook's events and that none is called per Token on the fast path.
func TestObserverSeesEveryEvent(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	env := obstest.New(t, rec)
	tok := env.Script(context.Background())
	for range 100 {
		_, err := env.Token() // the fast path: no event
		require.NoError(t, err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, 1, rec.opened)
	require.Len(t, rec.starts, 5)
	require.Len(t, rec.ends, 5)
	assert.Equal(t, []bool{false, true, true, true, false}, []bool{rec.starts[0].Background, rec.starts[1].Background, rec.starts[2].Background, rec.starts[3].Background, rec.starts[4].Background})
	var types []string
	for _, ev := range rec.ends {
		assert.Equal(t, "orders", ev.Source)
		assert.Equal(t, obstest.Kind, ev.Kind)
		types = append(types, ev.ErrorType)
	}
	assert.Equal(t, []string{"", oauthbearer.ErrorTypeHTTP5xx, oauthbearer.ErrorTypeRefused, "", ""}, types)
	assert.Equal(t, 2, rec.waited, "the first fetch and the one after the invalidation")
	assert.Equal(t, 2, rec.linked)
	assert.Equal(t, []oauthbearer.InvalidationEvent{{Source: "orders", Kind: obstest.Kind, Rejections: 1}}, rec.InvalidationEvents())
	assert.Equal(t, []oauthbearer.RejectionEvent{{Source: "orders", Kind: obstest.Kind, Adapter: "franzsasl", Status: "invalid_token"}}, rec.Rejections.Rejections())
	require.Len(t, rec.requests, 5)
	assert.Equal(t, 5, rec.reqInFetches, "each request's context descends from its fetch's")
	assert.Equal(t, 503, rec.requests[1].StatusCode)
	assert.Equal(t, oauthbearer.ErrorTypeHTTP5xx, rec.requests[1].ErrorType)

	st := env.Cache.Status()
	assert.True(t, st.Held)
	assert.Equal(t, tok.Expiry, st.Expiry)
	assert.Equal(t, 0, st.Failures)
	assert.Equal(t, obstest.TTL, st.Remaining)
	assert.Zero(t, st.RetryIn)
	assert.Equal(t, "custom", mustCache(t).Status().Kind, "a cache built around another source")

	rec.mu.Unlock()
	require.NoError(t, env.Cache.Close())
	rec.mu.Lock()
	assert.Equal(t, 1, rec.closed)
}

func mustCache(t *testing.T) *oauthbearer.Cache {
	c, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x"}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRejectionStatusIsBounded: a server's status is a label only from the
// fixed set; anything else is "other", and a source that is not a cache
// (or a wrapper of one) reports nothing.
func TestRejectionStatusIsBounded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x"}), &oauthbearer.CacheOptions{Observer: rec})
	require.NoError(t, err)
	defer c.Close()
	ext, err := oauthbearer.WithExtensions(c, map[string]string{"logicalCluster": "lkc-1"})
	require.NoError(t, err)
	oauthbearer.ReportRejection(ext, "saramasasl", "eyJhbGciOi.secret-looking status")
	oauthbearer.ReportRejection(ext, "saramasasl", "JWT_PROCESSING_FAILED")
	oauthbearer.ReportRejection(oauthbearer.StaticTokenSource(oauthbearer.Token{}), "saramasasl", "invalid_token")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rejected := rec.Rejections.Rejections()
	require.Len(t, rejected, 2)
	assert.Equal(t, "other", rejected[0].Status)
	assert.Equal(t, "JWT_PROCESSING_FAILED", rejected[1].Status)
}

// TestErrorTypes classifies the failures sources return, by their types.
func TestErrorTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want string
	}{
		{oauthbearer.Transient(fmt.Errorf("x: %w", context.DeadlineExceeded), 0), oauthbearer.ErrorTypeTimeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, oauthbearer.ErrorTypeConnect},
		{&net.DNSError{Err: "no such host", Name: "idp.invalid"}, oauthbearer.ErrorTypeConnect},
		{fmt.Errorf("x: %w", x509.UnknownAuthorityError{}), oauthbearer.ErrorTypeTLS},
		{&tls.CertificateVerificationError{Err: errors.New("bad")}, oauthbearer.ErrorTypeTLS},
		{fmt.Errorf("x: %w", oauthbearer.ErrRedirectRefused), oauthbearer.ErrorTypeConfig},
		{errors.New("no identity configured"), oauthbearer.ErrorTypeConfig},
		{oauthbearer.Transient(errors.New("odd"), 0), oauthbearer.ErrorTypeOther},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, oauthbearer.ErrorTypeOf(tc.err), "%v", tc.err)
	}
}

// TestUnusableTokenIsInvalidResponse: a token the cache refuses (no
// expiry) is classified as the provider's answer, not as configuration.
func TestUnusableTokenIsInvalidResponse(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x"}), &oauthbearer.CacheOptions{Observer: rec})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Token(ctx)
	require.Error(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.ends, 1)
	assert.Equal(t, oauthbearer.ErrorTypeResponse, rec.ends[0].ErrorType)
}

// detachingObserver returns a context that is not derived from the one
// it got: the cache must still be able to cancel the fetch.
type detachingObserver struct{ recorder }

func (d *detachingObserver) FetchStarted(context.Context, oauthbearer.FetchEvent) context.Context {
	return context.Background()
}

// TestCloseCancelsFetchWhateverTheObserverReturns: Close ends a running
// fetch even when the observer's FetchStarted dropped the cancellation.
func TestCloseCancelsFetchWhateverTheObserverReturns(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	ended := make(chan error, 1)
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return oauthbearer.Token{}, ctx.Err()
	})
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Observer: &detachingObserver{}})
	require.NoError(t, err)
	go func() { _, _ = c.Token(context.Background()) }()
	<-started
	require.NoError(t, c.Close())
	select {
	case err := <-ended:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the fetch was not cancelled by Close")
	}
}

type kindedSource struct{ oauthbearer.TokenSource }

func (kindedSource) TokenSourceKind() string { return "test kind" }

// TestKindComesFromTheSource: the cache reads the kind a source declares,
// whatever Name the caller chose. fails before the kind was read from the
// source: it was set in CacheOptions by a function that oauthbearer's init
// installed in internal/obsctx (global state), so a source declaring it
// got "custom".
func TestKindComesFromTheSource(t *testing.T) {
	t.Parallel()
	c, err := oauthbearer.NewCache(kindedSource{oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "v", Expiry: time.Now().Add(time.Hour)})},
		&oauthbearer.CacheOptions{Name: "mine"})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	st := c.Status()
	assert.Equal(t, "test kind", st.Kind)
	assert.Equal(t, "mine", st.Name)
}
