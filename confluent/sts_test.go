package confluent

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// subjectSource mints subject tokens from iss and counts invalidations.
type subjectSource struct {
	iss         *idptest.Issuer
	aud         string
	calls       atomic.Int32
	invalidated atomic.Int32
}

func (s *subjectSource) Token(context.Context) (oauthbearer.Token, error) {
	s.calls.Add(1)
	return oauthbearer.Token{Value: s.iss.Mint("workload-1", s.aud, time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *subjectSource) Invalidate(oauthbearer.Token) { s.invalidated.Add(1) }

func newSTS(t *testing.T) (*idptest.ConfluentSTS, *idptest.Issuer) {
	t.Helper()
	idp := idptest.NewIssuer(t, nil)
	sts := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{
		Providers: []idptest.ConfluentIdentityProvider{{Issuer: idp, ExpectedAudience: "app-1", Pools: []string{"pool-7yzk"}}},
	})
	return sts, idp
}

func TestSTSExchange(t *testing.T) {
	t.Parallel()
	sts, idp := newSTS(t)
	subj := &subjectSource{iss: idp, aud: "app-1"}
	src, err := NewSTS(subj, &STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: sts.TokenURL, Lifetime: 600 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })

	start := time.Now()
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "pool-7yzk", tok.Principal)
	assert.WithinDuration(t, start.Add(600*time.Second), tok.Expiry, 5*time.Second)

	// The token is a Confluent token signed by the STS.
	claims, sub, err := jwtverify.New(sts.Signer.JWKSURL, nil).Verify(tok.Value, jwtverify.Expect{Issuer: "Confluent", Audience: "CONTROL_PLANE"})
	require.NoError(t, err)
	assert.Equal(t, "pool-7yzk", sub)
	assert.Equal(t, "pool-7yzk", claims["userResourceId"])

	// Cached: a second call makes no request.
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	reqs := sts.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, sts.TokenURL, sts.URL+reqs[0].Path)
	assert.Equal(t, "workload-1", reqs[0].Subject)
}

// The exchanged token's expiry counts expires_in from the cache's clock:
// with a clock two minutes behind the system's, it is that clock's now
// plus the requested lifetime.
func TestSTSExpiryOnTheCacheClock(t *testing.T) {
	t.Parallel()
	sts, idp := newSTS(t)
	clock := fakeclock.New(time.Now().Add(-2 * time.Minute))
	src, err := NewSTS(&subjectSource{iss: idp, aud: "app-1"}, &STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: sts.TokenURL, Lifetime: 600 * time.Second, Cache: &oauthbearer.CacheOptions{Clock: clock}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(600*time.Second), tok.Expiry)
}

func TestSTSErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pool, aud       string
		wrongIssuer     bool
		fault           *idptest.Fault
		transient       bool
		retryAfter      time.Duration
		status          int
		code            string
		wantInvalidated bool
	}{
		"unknown pool":       {pool: "pool-zzzz", aud: "app-1", status: 400, code: "invalid_request"},
		"wrong audience":     {pool: "pool-7yzk", aud: "other", status: 400, code: "invalid_grant", wantInvalidated: true},
		"untrusted issuer":   {pool: "pool-7yzk", aud: "app-1", wrongIssuer: true, status: 400, code: "invalid_grant", wantInvalidated: true},
		"throttled":          {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Status: 429, RetryAfter: 7 * time.Second}, transient: true, retryAfter: 7 * time.Second},
		"unavailable":        {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Status: 503}, transient: true},
		"malformed":          {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Malformed: true}, transient: true},
		"oversize":           {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Oversize: 2 << 20}},
		"confluent failure":  {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Status: 403, Body: `{"errors":[{"status":"403","code":"forbidden","detail":"pool disabled"}]}`}, status: 403, code: "forbidden"},
		"not found html 404": {pool: "pool-7yzk", aud: "app-1", fault: &idptest.Fault{Status: 404, Body: "<html>no</html>"}, status: 404},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sts, idp := newSTS(t)
			if tc.fault != nil {
				sts.FailNext(1, *tc.fault)
			}
			iss := idp
			if tc.wrongIssuer {
				iss = idptest.NewIssuer(t, nil)
			}
			subj := &subjectSource{iss: iss, aud: tc.aud}
			src, err := NewSTS(subj, &STSOptions{IdentityPoolID: tc.pool, TokenURL: sts.TokenURL})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = src.Token(ctx)
			require.Error(t, err)
			assert.Equal(t, tc.transient, oauthbearer.IsTransient(err), "transient: %v", err)
			var te *oauthbearer.TransientError
			if tc.retryAfter > 0 {
				require.True(t, errors.As(err, &te))
				assert.Equal(t, tc.retryAfter, te.RetryAfter)
			}
			if tc.status != 0 {
				var oe *oauthclient.Error
				require.True(t, errors.As(err, &oe), "%T %v", err, err)
				assert.Equal(t, tc.status, oe.StatusCode)
				assert.Equal(t, tc.code, oe.Code)
			}
			assert.Equal(t, tc.wantInvalidated, subj.invalidated.Load() > 0)
			assert.Contains(t, err.Error(), "confluent")
			assert.NotContains(t, err.Error(), "eyJ", "no token in the error")
		})
	}
}

func TestSTSOptionsValidation(t *testing.T) {
	t.Parallel()
	subj := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x"})
	tests := map[string]struct {
		subj  oauthbearer.TokenSource
		o     *STSOptions
		want  string
		field string // the OptionError's field; "" for none
	}{
		"nil subject":  {nil, &STSOptions{IdentityPoolID: "pool-1"}, "subject token source is nil", ""},
		"nil options":  {subj, nil, "IdentityPoolID is empty", "IdentityPoolID"},
		"bad pool":     {subj, &STSOptions{IdentityPoolID: "pool-1,pool-2"}, "IdentityPoolID", "IdentityPoolID"},
		"plain http":   {subj, &STSOptions{IdentityPoolID: "pool-1", TokenURL: "http://api.confluent.cloud/sts/v1/oauth2/token"}, "https", "TokenURL"},
		"relative":     {subj, &STSOptions{IdentityPoolID: "pool-1", TokenURL: "/sts"}, "absolute URL", "TokenURL"},
		"bad lifetime": {subj, &STSOptions{IdentityPoolID: "pool-1", Lifetime: 1500 * time.Millisecond}, "STSOptions.Lifetime", "Lifetime"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewSTS(tc.subj, tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.field != "" {
				oe, ok := errors.AsType[*oauthbearer.OptionError](err)
				require.True(t, ok, "%T %v", err, err)
				assert.Equal(t, "confluent.STSOptions", oe.Options)
				assert.Equal(t, []string{tc.field}, oe.Fields)
			}
		})
	}
}

func TestSTSWithExtensions(t *testing.T) {
	t.Parallel()
	sts, idp := newSTS(t)
	src, err := NewSTS(&subjectSource{iss: idp, aud: "app-1"}, &STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: sts.TokenURL, HTTPClient: &http.Client{}})
	require.NoError(t, err)
	ext, err := WithExtensions(src, Extensions{LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool-7yzk"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ext.Close() })
	tok, err := ext.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"logicalCluster": "lkc-w25n5g", "identityPoolId": "pool-7yzk"}, tok.Extensions)
}

func TestExtensionsValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		e    Extensions
		want string // "" = valid
	}{
		"empty":          {Extensions{}, ""},
		"both":           {Extensions{"lkc-w25n5g", "pool-7yzk"}, ""},
		"pool list":      {Extensions{"", "pool-a1,pool-B2"}, ""},
		"bad cluster":    {Extensions{"lsrc-1", ""}, "LogicalCluster"},
		"bare prefix":    {Extensions{"lkc-", ""}, "LogicalCluster"},
		"bad pool":       {Extensions{"", "pool_1"}, "IdentityPoolID"},
		"pool typo":      {Extensions{"", "pol-7yzk"}, "IdentityPoolID"},
		"cluster space":  {Extensions{"lkc w25n5g", ""}, "LogicalCluster"},
		"space in list":  {Extensions{"", "pool-a, pool-b"}, "IdentityPoolID"},
		"trailing comma": {Extensions{"", "pool-a,"}, "IdentityPoolID"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.e.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Equal(t, map[string]string{}, Extensions{}.Map())
	_, err := WithExtensions(nil, Extensions{})
	require.Error(t, err)
	_, err = WithExtensions(oauthbearer.StaticTokenSource(oauthbearer.Token{}), Extensions{LogicalCluster: "bad"})
	require.Error(t, err)
}
