//go:build cgo

package confluentkafka_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/brokerstatus"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// fakeClient records what a Refresher does to its client.
type fakeClient struct {
	mu       sync.Mutex
	set      []kafka.OAuthBearerToken
	failures []string
	setErr   error
	closed   bool
	calls    chan string // "set" or "fail", one per call
}

func newFakeClient() *fakeClient { return &fakeClient{calls: make(chan string, 100)} }

func (c *fakeClient) SetOAuthBearerToken(tok kafka.OAuthBearerToken) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls <- "set"
	if c.setErr != nil {
		return c.setErr
	}
	c.set = append(c.set, tok)
	return nil
}

func (c *fakeClient) SetOAuthBearerTokenFailure(errstr string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls <- "fail"
	c.failures = append(c.failures, errstr)
	return nil
}

func (c *fakeClient) IsClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *fakeClient) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-c.calls:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the refresher made no call to the client")
		return ""
	}
}

func (c *fakeClient) lastFailure() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failures[len(c.failures)-1]
}

func TestRefresherPassesTokenPrincipalAndExtensions(t *testing.T) {
	t.Parallel()
	exp := time.Now().Add(time.Hour)
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "h.p.s", Expiry: exp, Principal: "svc",
		Extensions: map[string]string{"logicalCluster": "lkc-1"}})
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, src, nil)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, "set", c.next(t))
	require.NoError(t, r.Ready(context.Background()))
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, kafka.OAuthBearerToken{TokenValue: "h.p.s", Expiration: exp, Principal: "svc",
		Extensions: map[string]string{"logicalCluster": "lkc-1"}}, c.set[0])
}

func TestRefresherReportsBadTokensToLibrdkafka(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		tok     oauthbearer.Token
		err     error
		setErr  error
		wantMsg string
	}{
		"source error":    {err: errors.New("imds: HTTP 400"), wantMsg: "confluentkafka: getting a token: imds: HTTP 400"},
		"empty token":     {tok: oauthbearer.Token{Expiry: time.Now().Add(time.Hour)}, wantMsg: "empty token"},
		"no expiry":       {tok: oauthbearer.Token{Value: "h.p.s"}, wantMsg: "without an expiry, which librdkafka requires"},
		"expired":         {tok: oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(-time.Minute)}, wantMsg: "token that expired at"},
		"reserved key":    {tok: oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour), Extensions: map[string]string{"auth": "x"}}, wantMsg: `SASL extension "auth"`},
		"bad value":       {tok: oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour), Extensions: map[string]string{"k": "\x00"}}, wantMsg: `SASL extension "k"`},
		"not OAUTHBEARER": {tok: oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour)}, setErr: kafka.NewError(kafka.ErrState, "SASL/OAUTHBEARER is not the configured authentication mechanism", false), wantMsg: "set sasl.mechanism=OAUTHBEARER"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) { return tc.tok, tc.err })
			c := newFakeClient()
			c.setErr = tc.setErr
			r, err := confluentkafka.NewRefresher(c, src, &confluentkafka.Options{MinBackoff: time.Hour, MaxBackoff: time.Hour})
			require.NoError(t, err)
			defer r.Close()
			call := c.next(t)
			if tc.setErr != nil {
				require.Equal(t, "set", call)
				call = c.next(t)
			}
			require.Equal(t, "fail", call)
			assert.Contains(t, c.lastFailure(), tc.wantMsg)
			assert.True(t, strings.HasPrefix(c.lastFailure(), "confluentkafka: "), c.lastFailure())
			assert.NotContains(t, c.lastFailure(), "h.p.s", "never the token")

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = r.Ready(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantMsg)
		})
	}
}

func TestRefresherRetriesWithBackoffAndHonoursHandle(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	fail := true
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return oauthbearer.Token{}, oauthbearer.Transient(errors.New("imds: HTTP 503"), 0)
		}
		return oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, src, &confluentkafka.Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	require.NoError(t, err)
	defer r.Close()
	for range 3 { // retried on its own
		require.Equal(t, "fail", c.next(t))
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	for c.next(t) != "set" {
	}
	require.NoError(t, r.Ready(context.Background()))

	// The next set is half an hour away; a refresh event brings it forward.
	assert.True(t, r.Handle(kafka.OAuthBearerTokenRefresh{}))
	assert.Equal(t, "set", c.next(t))
	assert.False(t, r.Handle(kafka.NewError(kafka.ErrAllBrokersDown, "1/1 brokers are down", false)))
	assert.False(t, r.Handle(&kafka.Message{}))
}

// TestRefresherHandleInvalidatesRejectedToken: a broker's rejection passed
// to Handle drops the rejected token from the source and sets a fresh one.
func TestRefresherHandleInvalidatesRejectedToken(t *testing.T) {
	t.Parallel()
	n := 0
	raw := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		n++
		return oauthbearer.Token{Value: "token" + strings.Repeat("x", n), Expiry: time.Now().Add(time.Hour)}, nil
	})
	cache, err := oauthbearer.NewCache(raw, nil)
	require.NoError(t, err)
	defer cache.Close()
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, cache, nil)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, "set", c.next(t))

	rejection := kafka.NewError(kafka.ErrAuthentication,
		`sasl_ssl://b1:9093/1: SASL authentication error: {"status":"invalid_token"} (after 3ms in state AUTH_REQ)`, false)
	assert.False(t, r.Handle(rejection), "the application still sees the error")
	require.Equal(t, "set", c.next(t))
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, "tokenx", c.set[0].TokenValue)
	assert.Equal(t, "tokenxx", c.set[1].TokenValue, "a fresh token replaced the rejected one")
}

// TestRefresherCloseLeavesNoGoroutine is not parallel: goleak looks at
// every goroutine.
func TestRefresherCloseLeavesNoGoroutine(t *testing.T) {
	defer leakcheck.VerifyNone(t, leakcheck.Current())
	hung := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		<-ctx.Done() // Close must cancel an in-flight fetch
		return oauthbearer.Token{}, ctx.Err()
	})
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, hung, nil)
	require.NoError(t, err)
	r.Close()
	r.Close() // idempotent
	assert.Empty(t, c.calls, "a fetch cancelled by Close is not reported to the client")
	assert.Error(t, r.Ready(context.Background()))

	// A closed client stops the refresher by itself.
	c2 := newFakeClient()
	c2.closed = true
	r2, err := confluentkafka.NewRefresher(c2, oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "v", Expiry: time.Now().Add(time.Hour)}), nil)
	require.NoError(t, err)
	err = r2.Ready(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stopped before a token was set")
	assert.Empty(t, c2.calls)
	r2.Close()
}

func TestNewRefresherRejectsBadArguments(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "v", Expiry: time.Now().Add(time.Hour)})
	cases := map[string]struct {
		client  confluentkafka.Client
		src     oauthbearer.TokenSource
		opts    *confluentkafka.Options
		wantMsg string
	}{
		"nil client":       {src: src, wantMsg: "nil client"},
		"nil source":       {client: newFakeClient(), wantMsg: "nil token source"},
		"negative timeout": {client: newFakeClient(), src: src, opts: &confluentkafka.Options{FetchTimeout: -time.Second}, wantMsg: "Options.FetchTimeout is -1s"},
		"max below min":    {client: newFakeClient(), src: src, opts: &confluentkafka.Options{MinBackoff: time.Minute, MaxBackoff: time.Second}, wantMsg: "confluentkafka: Options.MaxBackoff (1s) is less than Options.MinBackoff (1m0s); raise MaxBackoff"},
		// fails before the refresher used the cache's backoff rule: the message named the cache's
		// option ("as the cache's: oauthbearer: CacheOptions.MaxBackoff
		// (100ms) is less than MinBackoff (500ms)") and hid that 500ms
		// was the default.
		"max below default min": {client: newFakeClient(), src: src, opts: &confluentkafka.Options{MaxBackoff: 100 * time.Millisecond}, wantMsg: "confluentkafka: Options.MaxBackoff (100ms) is less than Options.MinBackoff (default 500ms); raise MaxBackoff"},
		"negative min":          {client: newFakeClient(), src: src, opts: &confluentkafka.Options{MinBackoff: -time.Second}, wantMsg: "confluentkafka: Options.MinBackoff is -1s"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := confluentkafka.NewRefresher(tc.client, tc.src, tc.opts)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), tc.wantMsg)
			assert.True(t, strings.HasPrefix(err.Error(), "confluentkafka: "))
			if tc.opts != nil {
				var oe *oauthbearer.OptionError
				assert.ErrorAs(t, err, &oe, "option errors are the cache's type")
			}
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	plain := errors.New("something else")
	acquire := kafka.NewError(kafka.ErrAuthentication, "Failed to acquire SASL OAUTHBEARER token: confluentkafka: getting a token: x", false)
	down := kafka.NewError(kafka.ErrAllBrokersDown, "1/1 brokers are down", false)
	cases := map[string]struct {
		err        error
		wantStatus string
		wantServer string
		same       bool
	}{
		"invalid_token": {
			err:        kafka.NewError(kafka.ErrAuthentication, `sasl_ssl://b1:9093/1: SASL authentication error: {"status":"invalid_token"} (after 3ms in state AUTH_REQ)`, false),
			wantStatus: "invalid_token", wantServer: "broker sasl_ssl://b1:9093/1",
		},
		"confluent with scope": {
			err:        kafka.NewError(kafka.ErrAuthentication, `sasl_ssl://b2:9092/bootstrap: SASL authentication error: {"status":"JWT_PROCESSING_FAILED","scope":"s"} (after 0ms in state AUTH_REQ, 1 identical error(s) suppressed)`, false),
			wantStatus: "JWT_PROCESSING_FAILED", wantServer: "broker sasl_ssl://b2:9092/bootstrap",
		},
		"wrapped": {
			err:        errors.Join(errors.New("produce"), kafka.NewError(kafka.ErrAuthentication, `b: SASL authentication error: {"status":"invalid_request"}`, false)),
			wantStatus: "invalid_request", wantServer: "broker b",
		},
		"token acquisition": {err: acquire, same: true},
		"other code":        {err: down, same: true},
		"not kafka":         {err: plain, same: true},
		"nil":               {err: nil, same: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := confluentkafka.Explain(tc.err)
			if tc.same {
				assert.Equal(t, tc.err, got)
				return
			}
			var rej *oauthbearer.RejectedError
			require.True(t, errors.As(got, &rej), "got %v", got)
			assert.Equal(t, tc.wantStatus, rej.Status)
			assert.Equal(t, tc.wantServer, rej.Server)
			assert.Contains(t, got.Error(), brokerstatus.Hint(tc.wantStatus))
		})
	}
}
