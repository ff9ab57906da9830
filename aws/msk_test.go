package aws_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// countingCreds returns testKey's credentials, with session and expires
// if set, and counts retrievals (NewMSK calls the provider once per
// fetch, so once per signing).
type countingCreds struct {
	calls   atomic.Int32
	session string
	expires time.Time
}

func (c *countingCreds) Retrieve(context.Context) (sdkaws.Credentials, error) {
	c.calls.Add(1)
	return sdkaws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: c.session,
		CanExpire: !c.expires.IsZero(), Expires: c.expires}, nil
}

var mskStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newMSK(t *testing.T, creds sdkaws.CredentialsProvider, clock *fakeclock.Clock, mutate func(*awsid.MSKOptions)) *oauthbearer.Cache {
	t.Helper()
	o := &awsid.MSKOptions{
		Config: &sdkaws.Config{Region: "us-west-2", Credentials: creds},
		Cache:  &oauthbearer.CacheOptions{Clock: clock},
	}
	if mutate != nil {
		mutate(o)
	}
	src, err := awsid.NewMSK(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func decodeMSK(t *testing.T, tok string) *url.URL {
	t.Helper()
	assert.NotContains(t, tok, "=", "base64url without padding")
	assert.NotContains(t, tok, "+")
	assert.NotContains(t, tok, "/")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	u, err := url.Parse(string(raw))
	require.NoError(t, err)
	return u
}

func TestMSKTokenShape(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(mskStart)
	src := newMSK(t, &countingCreds{session: "FwoGZXIvYXdzEXAMPLE"}, clock, nil)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, mskStart.Add(15*time.Minute), tok.Expiry)

	u := decodeMSK(t, tok.Value)
	assert.Equal(t, "https", u.Scheme)
	assert.Equal(t, "kafka.us-west-2.amazonaws.com", u.Host)
	assert.Equal(t, "/", u.Path)
	q := u.Query()
	assert.Equal(t, "kafka-cluster:Connect", q.Get("Action"))
	assert.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
	assert.Equal(t, testKey+"/20260102/us-west-2/kafka-cluster/aws4_request", q.Get("X-Amz-Credential"))
	assert.Equal(t, "20260102T030405Z", q.Get("X-Amz-Date"))
	assert.Equal(t, "900", q.Get("X-Amz-Expires"))
	assert.Equal(t, "host", q.Get("X-Amz-SignedHeaders"))
	assert.Equal(t, "FwoGZXIvYXdzEXAMPLE", q.Get("X-Amz-Security-Token"))
	assert.Regexp(t, `^[0-9a-f]{64}$`, q.Get("X-Amz-Signature"))
	assert.Regexp(t, `^kafka-workload-identity/go`, q.Get("User-Agent"))
	assert.NotContains(t, string(mustDecode(t, tok.Value)), testSecret)

	// The signature covers the request without the User-Agent, which is
	// added after signing, as MSK expects.
	req, err := http.NewRequest(http.MethodGet, "https://kafka.us-west-2.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Expires=900", nil)
	require.NoError(t, err)
	sum := sha256.Sum256(nil)
	want, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		sdkaws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: "FwoGZXIvYXdzEXAMPLE"},
		req, hex.EncodeToString(sum[:]), "kafka-cluster", "us-west-2", mskStart)
	require.NoError(t, err)
	wu, err := url.Parse(want)
	require.NoError(t, err)
	assert.Equal(t, wu.Query().Get("X-Amz-Signature"), q.Get("X-Amz-Signature"))

	// Same parameters as AWS's own MSK signer library
	// (aws-msk-iam-sasl-signer-go v1.0.4's token, recorded here so that
	// the library is not a dependency of this module).
	assert.Equal(t, "kafka.us-west-2.amazonaws.com", u.Host)
	assert.Equal(t, []string{"Action", "User-Agent", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
		"X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-SignedHeaders"}, keys(q))
}

func mustDecode(t *testing.T, s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func keys(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestMSKSignsOncePerRefreshPeriod(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(mskStart)
	creds := &countingCreds{}
	refreshed := make(chan oauthbearer.RefreshEvent, 4)
	src := newMSK(t, creds, clock, func(o *awsid.MSKOptions) {
		o.Cache.RefreshFraction, o.Cache.Jitter = 0.8, 0.05
		o.Cache.OnRefresh = func(ev oauthbearer.RefreshEvent) { refreshed <- ev }
	})

	var wg sync.WaitGroup
	values := make([]string, 100)
	for i := range values {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			assert.NoError(t, err)
			values[i] = tok.Value
		})
	}
	wg.Wait()
	recv(t, refreshed)
	assert.Equal(t, int32(1), creds.calls.Load(), "100 connections, one signing")
	for _, v := range values {
		assert.Equal(t, values[0], v)
	}

	// The first token's refresh point is spread over a quarter to all of
	// the refresh period (the cache's spreadRefresh), which is 80% of 15
	// minutes plus or minus 5% jitter (11m15s to 12m45s): by 13 minutes
	// the cache has signed a new token, once. (Before this test knew of
	// the spread, it failed about one run in ten: the first refresh
	// could come before its "halfway" check.) The clock stops at the
	// refresh until it is done (AdvanceSettled), so that the next refresh
	// point is armed from the time the refresh ran.
	var ev oauthbearer.RefreshEvent
	clock.AdvanceSettled(13*time.Minute, func() { ev = recv(t, refreshed) })
	require.NoError(t, ev.Err)
	assert.Equal(t, int32(2), creds.calls.Load())
	assert.False(t, ev.Start.Before(mskStart.Add(11*time.Minute/4)), "not before a quarter of the refresh period: %s", ev.Start)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, values[0], tok.Value)
	signedAt := mskSignedAt(t, tok)
	assert.False(t, signedAt.Before(ev.Start.Truncate(time.Second)), "signed at the refresh, got %s", signedAt)
	assert.Equal(t, int32(2), creds.calls.Load())

	// From then on the refresh point is 80% ± 5% of each token's life:
	// just before its earliest point, still the same token, no signing.
	earliest := ev.Start.Add(11*time.Minute + 15*time.Second)
	clock.Advance(earliest.Add(-time.Second).Sub(clock.Now()))
	again, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.Value, again.Value)
	assert.Equal(t, int32(2), creds.calls.Load())

	// Past its latest point, one new signing, after the refresh point.
	clock.AdvanceSettled(ev.Start.Add(12*time.Minute+45*time.Second+time.Second).Sub(clock.Now()), func() { ev = recv(t, refreshed) })
	require.NoError(t, ev.Err)
	assert.Equal(t, int32(3), creds.calls.Load())
	third, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, tok.Value, third.Value)
	signedAt = mskSignedAt(t, third)
	assert.False(t, signedAt.Before(earliest.Truncate(time.Second)), "signed after the refresh point, got %s", signedAt)
	assert.Equal(t, int32(3), creds.calls.Load())
}

// mskSignedAt is the signing time of an MSK token (X-Amz-Date).
func mskSignedAt(t *testing.T, tok oauthbearer.Token) time.Time {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", decodeMSK(t, tok.Value).Query().Get("X-Amz-Date"))
	require.NoError(t, err)
	return at
}

func TestMSKTokenDoesNotOutliveCredentials(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(mskStart)
	credsExp := mskStart.Add(5 * time.Minute)
	src := newMSK(t, &countingCreds{session: "s", expires: credsExp}, clock, func(o *awsid.MSKOptions) {
		o.Lifetime = 10 * time.Minute
	})
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, credsExp, tok.Expiry)
	assert.Equal(t, "600", decodeMSK(t, tok.Value).Query().Get("X-Amz-Expires"))
}

func TestMSKValidatesOptions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mutate func(*awsid.MSKOptions)
		want   string
	}{
		"duration too short": {func(o *awsid.MSKOptions) { o.Lifetime = 30 * time.Second }, "MSKOptions.Lifetime is 30s"},
		"duration too long":  {func(o *awsid.MSKOptions) { o.Lifetime = 16 * time.Minute }, "MSKOptions.Lifetime is 16m0s"},
		"no region":          {func(o *awsid.MSKOptions) { o.Config.Region = "" }, "no AWS region is set; set MSKOptions.Region, or AWS_REGION"},
		"no credentials":     {func(o *awsid.MSKOptions) { o.Config.Credentials = nil }, "no AWS credentials provider"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := &awsid.MSKOptions{Config: &sdkaws.Config{Region: "us-west-2", Credentials: &countingCreds{}}}
			tc.mutate(o)
			src, err := awsid.NewMSK(context.Background(), o)
			require.Error(t, err)
			assert.Nil(t, src)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "aws: "))
			if strings.Contains(name, "duration") {
				// Fails on main: a plain error.
				oe, ok := errors.AsType[*oauthbearer.OptionError](err)
				require.True(t, ok, err.Error())
				assert.Equal(t, []string{"Lifetime"}, oe.Fields)
				assert.Equal(t, "aws.MSKOptions", oe.Options)
			}
		})
	}
}

func TestMSKRegionOption(t *testing.T) {
	t.Parallel()
	src := newMSK(t, &countingCreds{}, fakeclock.New(mskStart), func(o *awsid.MSKOptions) {
		o.Config.Region = ""
		o.Region = "eu-west-1"
	})
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	u := decodeMSK(t, tok.Value)
	assert.Equal(t, "kafka.eu-west-1.amazonaws.com", u.Host)
	assert.Contains(t, u.Query().Get("X-Amz-Credential"), "/eu-west-1/kafka-cluster/")
}

// recv returns the next event, failing the test instead of hanging.
func recv(t *testing.T, ch <-chan oauthbearer.RefreshEvent) oauthbearer.RefreshEvent {
	t.Helper()
	return leakcheck.Returns(t, "waiting for a refresh event", func() oauthbearer.RefreshEvent { return <-ch })
}
