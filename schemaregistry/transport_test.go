package schemaregistry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const (
	testLSRC = "lsrc-kjn9nv"
	testPool = "pool-7yzk"
	testAud  = "schema-registry"
)

// mintingSource returns a cached source of fresh tokens from iss and the
// number of fetches it made.
func mintingSource(t *testing.T, iss *emu.Issuer) (*oauthbearer.Cache, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		i := n.Add(1)
		return oauthbearer.Token{Value: iss.Mint(fmt.Sprintf("workload-%d", i), testAud, time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
	}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, &n
}

func newRegistry(t *testing.T, tlsOn bool) (*emu.SchemaRegistry, *emu.Issuer) {
	t.Helper()
	iss := emu.NewIssuer(t, nil)
	reg := emu.NewSchemaRegistry(t, &emu.SchemaRegistryOptions{
		Issuer: iss, Audience: testAud, LogicalCluster: testLSRC, IdentityPoolID: testPool, TLS: tlsOn,
	})
	return reg, iss
}

func schemaN(i int) sr.Schema {
	return sr.Schema{Type: sr.TypeAvro, Schema: fmt.Sprintf(`{"type":"record","name":"Car%d","fields":[{"name":"make","type":"string"}]}`, i)}
}

func TestFranzSRConcurrentWithRefreshOn401(t *testing.T) {
	t.Parallel()
	reg, iss := newRegistry(t, true)
	src, fetches := mintingSource(t, iss)
	tr, err := NewTransport(src, &TransportOptions{
		LogicalCluster: testLSRC, IdentityPoolID: testPool,
		Base: reg.Client().Transport,
	})
	require.NoError(t, err)
	cl, err := sr.NewClient(sr.URLs(reg.URL), sr.HTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}))
	require.NoError(t, err)

	// Warm up, then make the registry revoke the current token: the next
	// request gets 401, the transport refreshes and replays the body.
	_, err = cl.Subjects(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load())
	reg.RejectNext(1)

	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ss, err := cl.CreateSchema(context.Background(), fmt.Sprintf("cars-%d-value", i), schemaN(i))
			if err == nil && ss.Subject != fmt.Sprintf("cars-%d-value", i) {
				err = fmt.Errorf("subject %q", ss.Subject)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	subjects, err := cl.Subjects(context.Background())
	require.NoError(t, err)
	assert.Len(t, subjects, n, "every body reached the registry, including the replayed one")
	assert.Equal(t, 1, reg.Unauthorized())
	// One refresh for the whole burst: concurrent requests share the cache.
	assert.EqualValues(t, 2, fetches.Load())
	for _, rec := range reg.Log() {
		assert.Equal(t, testLSRC, rec.LogicalCluster)
		assert.Equal(t, testPool, rec.IdentityPoolID)
	}
	assert.Equal(t, reg.Requests(), reg.Authorized()+reg.Unauthorized())
}

func TestRegistryRejectsMissingHeadersAndBadTokens(t *testing.T) {
	t.Parallel()
	reg, iss := newRegistry(t, false)
	other := emu.NewIssuer(t, nil)
	tests := map[string]struct {
		src  oauthbearer.TokenSource
		opts TransportOptions
	}{
		"no logical cluster": {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, time.Hour, nil)}), TransportOptions{IdentityPoolID: testPool}},
		"wrong pool":         {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, time.Hour, nil)}), TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: "pool-other"}},
		"foreign issuer":     {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: other.Mint("a", testAud, time.Hour, nil)}), TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
		"wrong audience":     {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", "kafka", time.Hour, nil)}), TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
		"expired":            {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, -time.Hour, nil)}), TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hc, err := NewHTTPClient(tc.src, &tc.opts)
			require.NoError(t, err)
			cl, err := sr.NewClient(sr.URLs(reg.URL), sr.HTTPClient(hc))
			require.NoError(t, err)
			_, err = cl.Subjects(context.Background())
			var re *sr.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
			assert.Equal(t, 401, re.ErrorCode)
			assert.Equal(t, "Unauthorized", re.Message)
		})
	}
}

// recordingRT records the requests it receives and answers with a queue
// of statuses.
type recordingRT struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []string
}

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headers = append(r.headers, req.Header.Clone())
	r.bodies = append(r.bodies, string(b))
	st := http.StatusOK
	if len(r.statuses) > 0 {
		st, r.statuses = r.statuses[0], r.statuses[1:]
	}
	return &http.Response{StatusCode: st, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}, Request: req}, nil
}

// countingSource hands out token-1, token-2, ... one per Invalidate.
type countingSource struct {
	invalidated atomic.Int32
}

func (c *countingSource) Token(context.Context) (oauthbearer.Token, error) {
	return oauthbearer.Token{Value: fmt.Sprintf("token-%d", c.invalidated.Load()+1), Expiry: time.Now().Add(time.Hour)}, nil
}
func (c *countingSource) Invalidate(oauthbearer.Token) { c.invalidated.Add(1) }

func TestTransportCallerRequestUntouchedAndBodyReplayed(t *testing.T) {
	t.Parallel()
	base := &recordingRT{statuses: []int{401, 200}}
	src := &countingSource{}
	tr, err := NewTransport(src, &TransportOptions{Base: base, LogicalCluster: testLSRC, IdentityPoolID: testPool})
	require.NoError(t, err)

	shared := http.Header{"Content-Type": {"application/vnd.schemaregistry.v1+json"}}
	req, err := http.NewRequest(http.MethodPost, "https://psrc-1.confluent.cloud/subjects/x/versions", strings.NewReader(`{"schema":"s"}`))
	require.NoError(t, err)
	req.Header = shared
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, http.Header{"Content-Type": {"application/vnd.schemaregistry.v1+json"}}, shared, "the caller's header map is untouched")
	require.Len(t, base.headers, 2)
	assert.Equal(t, "Bearer token-1", base.headers[0].Get("Authorization"))
	assert.Equal(t, "Bearer token-2", base.headers[1].Get("Authorization"))
	for _, h := range base.headers {
		assert.Equal(t, testLSRC, h.Get("target-sr-cluster"))
		assert.Equal(t, testPool, h.Get("Confluent-Identity-Pool-Id"))
	}
	assert.Equal(t, []string{`{"schema":"s"}`, `{"schema":"s"}`}, base.bodies)
	assert.EqualValues(t, 1, src.invalidated.Load())
}

func TestTransport401Cases(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body      io.Reader
		noGetBody bool
		statuses  []int
		wantSent  int
		want      int
	}{
		"no body retried":            {nil, false, []int{401, 200}, 2, 200},
		"unreplayable body returned": {io.MultiReader(strings.NewReader("x")), true, []int{401, 200}, 1, 401},
		"second 401 returned":        {strings.NewReader("x"), false, []int{401, 401, 200}, 2, 401},
		"403 not retried":            {nil, false, []int{403, 200}, 1, 403},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := &recordingRT{statuses: tc.statuses}
			src := &countingSource{}
			tr, err := NewTransport(src, &TransportOptions{Base: base})
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPost, "https://sr.example.com/subjects", tc.body)
			require.NoError(t, err)
			if tc.noGetBody {
				req.GetBody = nil
			}
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
			assert.Len(t, base.headers, tc.wantSent)
			assert.Empty(t, req.Header.Get("Authorization"))
		})
	}
}

func TestTransportRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	base := &recordingRT{}
	src := &countingSource{}
	tr, err := NewTransport(src, &TransportOptions{Base: base})
	require.NoError(t, err)
	for _, u := range []string{"http://psrc-1.confluent.cloud/subjects", "http://10.0.0.1:8081/subjects", "HTTP://sr.example.com/"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		_, err = tr.RoundTrip(req)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "plain http")
		assert.Contains(t, err.Error(), "AllowInsecureHTTP")
	}
	assert.Empty(t, base.headers, "nothing was sent")
	for _, u := range []string{"http://127.0.0.1:8081/", "http://localhost/", "http://[::1]/"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, u)
		_ = resp.Body.Close()
	}
	opt, err := NewTransport(src, &TransportOptions{Base: base, AllowInsecureHTTP: true})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, "http://sr.internal/", nil)
	require.NoError(t, err)
	resp, err := opt.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
}

func TestTransportTokenError(t *testing.T) {
	t.Parallel()
	base := &recordingRT{}
	tr, err := NewTransport(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf("idp down"), 0)
	}), &TransportOptions{Base: base})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, "https://sr.example.com/", nil)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err))
	assert.Empty(t, base.headers)
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	src := &countingSource{}
	tests := map[string]struct {
		src  oauthbearer.TokenSource
		o    *TransportOptions
		want string
	}{
		"nil source":  {nil, nil, "token source is nil"},
		"bad lsrc":    {src, &TransportOptions{LogicalCluster: "lkc-1"}, "LogicalCluster"},
		"bad pool":    {src, &TransportOptions{IdentityPoolID: "pool-1 "}, "IdentityPoolID"},
		"neg timeout": {src, &TransportOptions{FetchTimeout: -1}, "FetchTimeout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewTransport(tc.src, tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := NewHeaderProvider(src, &HeaderProviderOptions{LogicalCluster: "lkc-1"})
	require.Error(t, err)
	_, err = NewHeaderProvider(nil, nil)
	require.Error(t, err)
}

func TestHeaderProvider(t *testing.T) {
	t.Parallel()
	p, err := NewHeaderProvider(&countingSource{}, &HeaderProviderOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool})
	require.NoError(t, err)
	h, err := p.GetAuthenticationHeader()
	require.NoError(t, err)
	assert.Equal(t, "Bearer token-1", h)
	lc, err := p.GetLogicalCluster()
	require.NoError(t, err)
	assert.Equal(t, testLSRC, lc)
	pool, err := p.GetIdentityPoolID()
	require.NoError(t, err)
	assert.Equal(t, testPool, pool)

	failing, err := NewHeaderProvider(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{}, fmt.Errorf("boom")
	}), nil)
	require.NoError(t, err)
	_, err = failing.GetAuthenticationHeader()
	require.ErrorContains(t, err, "boom")
}
