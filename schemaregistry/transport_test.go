package schemaregistry

import (
	"context"
	"errors"
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

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const (
	testLSRC = "lsrc-kjn9nv"
	testPool = "pool-7yzk"
	testAud  = "schema-registry"
)

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
	for _, u := range []string{"http://psrc-1.confluent.cloud/subjects", "http://10.0.0.1:8081/subjects", "HTTP://sr.example.com/", "ws://sr.example.com/"} {
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
		src   oauthbearer.TokenSource
		o     *TransportOptions
		want  string
		field string // the OptionError's field; "" for none
	}{
		"nil source":  {nil, nil, "token source is nil", ""},
		"bad lsrc":    {src, &TransportOptions{LogicalCluster: "lkc-1"}, "LogicalCluster", "LogicalCluster"},
		"bad pool":    {src, &TransportOptions{IdentityPoolID: "pool-1 "}, "IdentityPoolID", "IdentityPoolID"},
		"neg timeout": {src, &TransportOptions{FetchTimeout: -1}, "FetchTimeout", "FetchTimeout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewTransport(tc.src, tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.field != "" {
				oe, ok := errors.AsType[*oauthbearer.OptionError](err)
				require.True(t, ok, "%T %v", err, err)
				assert.Equal(t, "schemaregistry.TransportOptions", oe.Options)
				assert.Equal(t, []string{tc.field}, oe.Fields)
			}
		})
	}
	_, err := NewHeaderProvider(src, &HeaderProviderOptions{LogicalCluster: "lkc-1"})
	require.Error(t, err)
	oe, ok := errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%T %v", err, err)
	assert.Equal(t, "schemaregistry.HeaderProviderOptions", oe.Options)
	assert.Equal(t, []string{"LogicalCluster"}, oe.Fields)
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
