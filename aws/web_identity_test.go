package aws_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRole   = "arn:aws:iam::111122223333:role/orders"
)

// newSTS starts an emulator that verifies signatures with testSecret.
func newSTS(t *testing.T, opts *idptest.STSOptions) *idptest.STS {
	var o idptest.STSOptions
	if opts != nil {
		o = *opts
	}
	o.AccessKeyID, o.SecretAccessKey, o.RoleARN = testKey, testSecret, testRole
	return idptest.NewSTS(t, &o)
}

// sdkConfig is what a caller passes to reach the emulator with static
// credentials.
func sdkConfig(e *idptest.STS, region string, creds sdkaws.CredentialsProvider) *sdkaws.Config {
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider(testKey, testSecret, "")
	}
	return &sdkaws.Config{
		Region:       region,
		Credentials:  creds,
		BaseEndpoint: sdkaws.String(e.URL),
		HTTPClient:   e.Client(),
	}
}

func newWebIdentity(t *testing.T, e *idptest.STS, mutate func(*awsid.WebIdentityOptions)) *oauthbearer.Cache {
	t.Helper()
	o := &awsid.WebIdentityOptions{
		Audience: []string{"kafka.example.com"},
		Config:   sdkConfig(e, "us-west-2", nil),
	}
	if mutate != nil {
		mutate(o)
	}
	src, err := awsid.NewWebIdentity(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func TestWebIdentityGetsVerifiableTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		alg      string
		duration time.Duration
		want     int
	}{
		{alg: "", want: 300},
		{alg: "RS256", duration: time.Hour, want: 3600},
		{alg: "ES384", duration: time.Minute, want: 60},
	} {
		t.Run(fmt.Sprintf("%q/%s", tc.alg, tc.duration), func(t *testing.T) {
			t.Parallel()
			e := newSTS(t, nil)
			src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
				o.Audience = []string{"kafka.example.com", "sr.example.com"}
				o.SigningAlgorithm = tc.alg
				o.Lifetime = tc.duration
				o.Tags = map[string]string{"team": "payments", "env": "prod"}
			})
			before := time.Now()
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, testRole, tok.Principal)
			assert.WithinDuration(t, before.Add(time.Duration(tc.want)*time.Second), tok.Expiry, 2*time.Second)
			calls := e.Requests()
			require.Len(t, calls, 1)
			assert.Equal(t, tc.want, calls[0].DurationSeconds)
			assert.Equal(t, []string{"kafka.example.com", "sr.example.com"}, calls[0].Audience)
			assert.Equal(t, "us-west-2", calls[0].Region)

			// Cached: the second call does not reach STS.
			again, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tok.Value, again.Value)
			assert.Len(t, e.Requests(), 1)

			claims, sub, err := jwtverify.New(e.JWKSURL, e.Client()).Verify(tok.Value,
				jwtverify.Expect{Issuer: e.IssuerURL, Audience: "sr.example.com"})
			require.NoError(t, err)
			assert.Equal(t, testRole, sub)
			assert.Equal(t, map[string]any{"team": "payments", "env": "prod"},
				claims["https://sts.amazonaws.com/"].(map[string]any)["request_tags"])
			parsed, _, err := jwt.NewParser().ParseUnverified(tok.Value, jwt.MapClaims{})
			require.NoError(t, err)
			wantAlg := tc.alg
			if wantAlg == "" {
				wantAlg = "RS256"
			}
			assert.Equal(t, wantAlg, parsed.Header["alg"])

		})
	}
}

func TestWebIdentityValidatesOptions(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("aud", i)
		}
		return out
	}
	tags := map[string]string{}
	for i := range 51 {
		tags[fmt.Sprint("k", i)] = "v"
	}
	for name, tc := range map[string]struct {
		mutate func(*awsid.WebIdentityOptions)
		want   string
	}{
		"no audience":        {func(o *awsid.WebIdentityOptions) { o.Audience = nil }, "WebIdentityOptions.Audience is empty"},
		"eleven audiences":   {func(o *awsid.WebIdentityOptions) { o.Audience = many(11) }, "WebIdentityOptions.Audience has 11 values"},
		"empty audience":     {func(o *awsid.WebIdentityOptions) { o.Audience = []string{"a", ""} }, "WebIdentityOptions.Audience[1]"},
		"long audience":      {func(o *awsid.WebIdentityOptions) { o.Audience = []string{strings.Repeat("a", 1001)} }, "WebIdentityOptions.Audience[0]"},
		"padded audience":    {func(o *awsid.WebIdentityOptions) { o.Audience = []string{"kafka\n"} }, `WebIdentityOptions.Audience[0] is "kafka\n", with spaces or line breaks`},
		"unknown algorithm":  {func(o *awsid.WebIdentityOptions) { o.SigningAlgorithm = "HS256" }, `WebIdentityOptions.SigningAlgorithm is "HS256"`},
		"duration too short": {func(o *awsid.WebIdentityOptions) { o.Lifetime = 59 * time.Second }, "WebIdentityOptions.Lifetime is 59s"},
		"duration too long":  {func(o *awsid.WebIdentityOptions) { o.Lifetime = time.Hour + time.Second }, "WebIdentityOptions.Lifetime is 1h0m1s"},
		"negative duration":  {func(o *awsid.WebIdentityOptions) { o.Lifetime = -time.Minute }, "WebIdentityOptions.Lifetime is -1m0s"},
		"fractional seconds": {func(o *awsid.WebIdentityOptions) { o.Lifetime = 90*time.Second + time.Millisecond }, "WebIdentityOptions.Lifetime is 1m30.001s"},
		"bad tag key":        {func(o *awsid.WebIdentityOptions) { o.Tags = map[string]string{"a*b": "v"} }, `WebIdentityOptions.Tags key "a*b"`},
		"bad tag value":      {func(o *awsid.WebIdentityOptions) { o.Tags = map[string]string{"k": "a\nb"} }, `WebIdentityOptions.Tags["k"]`},
		"too many tags":      {func(o *awsid.WebIdentityOptions) { o.Tags = tags }, "WebIdentityOptions.Tags has 51 tags"},
		"no region":          {func(o *awsid.WebIdentityOptions) { o.Config.Region = "" }, "no AWS region is set; set WebIdentityOptions.Region, or AWS_REGION"},
		"no credentials":     {func(o *awsid.WebIdentityOptions) { o.Config.Credentials = nil }, "no AWS credentials provider"},
		"global region":      {func(o *awsid.WebIdentityOptions) { o.Region = "aws-global" }, "STS global endpoint"},
		"global config":      {func(o *awsid.WebIdentityOptions) { o.Config.Region = "aws-global" }, "STS global endpoint"},
		"global endpoint": {func(o *awsid.WebIdentityOptions) { o.Endpoint = "https://sts.amazonaws.com" },
			`"https://sts.amazonaws.com" is the global endpoint`},
		"global endpoint in config": {func(o *awsid.WebIdentityOptions) { o.Config.BaseEndpoint = sdkaws.String("https://STS.amazonaws.com/") },
			"is the global endpoint"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Config: sdkConfig(e, "us-west-2", nil)}
			tc.mutate(o)
			src, err := awsid.NewWebIdentity(context.Background(), o)
			require.Error(t, err)
			assert.Nil(t, src)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "aws: "), err.Error())
		})
	}
	assert.Empty(t, e.Requests(), "invalid options must fail before any request")
}

// TestWebIdentityAudienceLengthInCharacters: the service model bounds an
// audience at 1000 characters, not bytes. Failed before the change (an
// audience of 1000 two-byte characters was refused before any request).
func TestWebIdentityAudienceLengthInCharacters(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	aud := strings.Repeat("é", 1000)
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) { o.Audience = []string{aud} })
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{aud}, e.Requests()[0].Audience)

	// One character more is refused, quoted clipped (on main it was
	// printed whole).
	long := strings.Repeat("é", 1001)
	_, err = awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{long}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WebIdentityOptions.Audience[0] is 1001 characters long")
	assert.Contains(t, err.Error(), "at most 1000 characters")
	assert.NotContains(t, err.Error(), long)
}

func TestWebIdentityRegionOverridesConfig(t *testing.T) {
	t.Parallel()
	e := newSTS(t, &idptest.STSOptions{Region: "eu-central-1"})
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Config.Region = ""
		o.Region = "eu-central-1"
	})
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "eu-central-1", e.Requests()[0].Region)
}

func TestWebIdentityMapsSTSErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		opts      idptest.STSOptions
		region    string
		secret    string
		want      []string
		transient bool
		typed     any
	}{
		"federation disabled": {
			opts:  idptest.STSOptions{FederationDisabled: true},
			want:  []string{"outbound web identity federation is disabled", "aws iam enable-outbound-web-identity-federation", "IAM console"},
			typed: new(*types.OutboundWebIdentityFederationDisabledException),
		},
		"access denied": {
			opts: idptest.STSOptions{AllowedAudiences: []string{"someone-else"}},
			want: []string{"may not get web identity tokens", "sts:GetWebIdentityToken", "sts:IdentityTokenAudience", "AccessDenied"},
		},
		"global endpoint": {
			opts:   idptest.STSOptions{Global: true},
			region: "us-east-1",
			want:   []string{"does not serve GetWebIdentityToken", "regional endpoint", "InvalidAction"},
		},
		"wrong secret": {
			secret: "not-the-secret",
			want:   []string{"rejected the request's AWS credentials or signature", "SignatureDoesNotMatch"},
		},
		"region mismatch": {
			region: "ap-south-1",
			want:   []string{"rejected the request's AWS credentials or signature", "valid region"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newSTS(t, &tc.opts)
			region := tc.region
			if region == "" {
				region = "us-west-2"
			}
			secret := tc.secret
			if secret == "" {
				secret = testSecret
			}
			src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
				o.Config = sdkConfig(e, region, credentials.NewStaticCredentialsProvider(testKey, secret, ""))
			})
			_, err := src.Token(context.Background())
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, tc.transient, oauthbearer.IsTransient(err), "transient")
			if tc.typed != nil {
				// The SDK's error quotes STS's reply in its fields: the
				// message names it, errors.As does not hand it out.
				// (fails before fetchrec.Seal: errors.As reached it.)
				assert.False(t, errors.As(err, tc.typed), "the SDK's error is sealed away")
			}
			assert.NotContains(t, err.Error(), testSecret)
			assert.Len(t, e.Requests(), 1, "the SDK must not retry on its own")
		})
	}
}

func TestWebIdentityRetriesThrottlingWithBackoff(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	e.FailNext(1, idptest.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded", RetryAfter: 3 * time.Second})
	e.FailNext(1, idptest.Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service is unable to handle request."})
	clock := fakeclock.New(time.Now())
	refreshed := make(chan oauthbearer.RefreshEvent, 8)
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Cache = &oauthbearer.CacheOptions{Clock: clock, MinBackoff: time.Second, MaxBackoff: 2 * time.Second,
			OnRefresh: func(ev oauthbearer.RefreshEvent) { refreshed <- ev }}
	})
	ctx := context.Background()

	_, err := src.Token(ctx)
	require.Error(t, err)
	recv(t, refreshed)
	var te *oauthbearer.TransientError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 3*time.Second, te.RetryAfter, "the server's Retry-After is carried")
	assert.Contains(t, err.Error(), "Throttling")
	assert.Len(t, e.Requests(), 1, "one request per fetch: the SDK retryer is off")

	// The cache does not call STS again before the Retry-After: a caller
	// that cannot wait gives up with the last failure.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = src.Token(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "Throttling")
	assert.Len(t, e.Requests(), 1)

	// The retry comes after the Retry-After, spread above it by up to
	// the first step (MinBackoff): it runs and meets the 503.
	clock.Advance(4*time.Second + time.Millisecond)
	ev := recv(t, refreshed)
	require.Error(t, ev.Err)
	assert.True(t, oauthbearer.IsTransient(ev.Err), "5xx is transient: %v", ev.Err)
	assert.Equal(t, 2, ev.Failures)
	assert.Len(t, e.Requests(), 2)

	// At the cap (2s) the delay is 2s to 2.5s; the cache retries on its
	// own, without a token held.
	clock.Advance(2500*time.Millisecond + time.Millisecond)
	tok, err := src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, testRole, tok.Principal)
	assert.Len(t, e.Requests(), 3)
}

func TestWebIdentityUnreachableSTSIsTransient(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	src := newWebIdentity(t, e, nil)
	e.Close()
	_, err := src.Token(context.Background())
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err), "%v", err)
}

func TestWebIdentityTokenDoesNotOutliveCredentials(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		credsLeft time.Duration
		duration  time.Duration
	}{
		"hour token, ten minute credentials":  {credsLeft: 10 * time.Minute, duration: time.Hour},
		"default token, three minute session": {credsLeft: 3 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			exp := time.Now().Add(tc.credsLeft).Truncate(time.Second)
			// The emulator refuses tokens that outlive the session, as STS does.
			e := newSTS(t, &idptest.STSOptions{SessionExpiry: exp})
			creds := &countingCreds{session: "session", expires: exp}
			src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
				o.Lifetime = tc.duration
				o.Config = sdkConfig(e, "us-west-2", creds)
			})
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.False(t, tok.Expiry.After(exp), "token expiry %s after credentials expiry %s", tok.Expiry, exp)
			calls := e.Requests()
			require.Len(t, calls, 1)
			assert.LessOrEqual(t, calls[0].DurationSeconds, int(tc.credsLeft/time.Second)-30)
			assert.Greater(t, calls[0].DurationSeconds, int(tc.credsLeft/time.Second)-35)
			assert.True(t, calls[0].SessionToken)
		})
	}
}

func TestWebIdentityCredentialsAboutToExpire(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Config = sdkConfig(e, "us-west-2", &countingCreds{session: "session", expires: time.Now().Add(45 * time.Second)})
	})
	_, err := src.Token(context.Background())
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err))
	assert.Contains(t, err.Error(), "AWS credentials expire at")
	assert.Empty(t, e.Requests(), "no request STS would refuse")
}

func TestWebIdentityNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	e := newSTS(t, &idptest.STSOptions{FederationDisabled: true})
	var logs syncbuf.Buffer
	events := make(chan oauthbearer.RefreshEvent, 8)
	clock := fakeclock.New(time.Now())
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Cache = &oauthbearer.CacheOptions{
			Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			OnRefresh: func(ev oauthbearer.RefreshEvent) { events <- ev },
			Clock:     clock,
		}
	})
	_, err := src.Token(context.Background())
	require.Error(t, err)
	failed := recv(t, events)
	e.SetFederationEnabled(true)
	clock.Advance(time.Minute)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, tok.Value)
	succeeded := recv(t, events)

	out := logs.String() + fmt.Sprint(failed, succeeded, err) + fmt.Sprintf("%v %+v %#v", tok, tok, tok)
	assert.Contains(t, logs.String(), "outbound web identity federation is disabled", "the failure is logged")
	assert.NotContains(t, out, testSecret)
	assert.NotContains(t, out, tok.Value)
	assert.NotContains(t, out, strings.Split(tok.Value, ".")[2], "not even the signature")
}

func TestWebIdentityNilOptions(t *testing.T) {
	t.Parallel()
	_, err := awsid.NewWebIdentity(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WebIdentityOptions.Audience is empty")
}

// Fails on main for the empty Audience (a plain error copying
// audience.Check's words) and the Lifetime range (a plain error): every
// refused option is an *oauthbearer.OptionError naming the field.
func TestWebIdentityOptionErrorsAreTyped(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		o     *awsid.WebIdentityOptions
		field string
	}{
		"no audience":     {&awsid.WebIdentityOptions{}, "Audience"},
		"empty audience":  {&awsid.WebIdentityOptions{Audience: []string{""}}, "Audience[0]"},
		"lifetime range":  {&awsid.WebIdentityOptions{Audience: []string{"kafka"}, Lifetime: time.Second}, "Lifetime"},
		"lifetime below0": {&awsid.WebIdentityOptions{Audience: []string{"kafka"}, Lifetime: -time.Second}, "Lifetime"},
	} {
		_, err := awsid.NewWebIdentity(context.Background(), tc.o)
		oe, ok := errors.AsType[*oauthbearer.OptionError](err)
		require.True(t, ok, "%s: %v", name, err)
		assert.Equal(t, "aws.WebIdentityOptions", oe.Options, name)
		assert.Equal(t, []string{tc.field}, oe.Fields, name)
		assert.True(t, strings.HasPrefix(err.Error(), "aws: WebIdentityOptions."+tc.field+" is "), err.Error())
	}
}

// Tag keys and values and the signing algorithm are quoted through
// srvtext.Quote: a URL's query is dropped and a pasted blob clipped. On
// main they were quoted whole with %q.
func TestWebIdentityQuotesOptionValuesSafely(t *testing.T) {
	t.Parallel()
	long := "ey" + strings.Repeat("Secret0Blob", 40)
	for name, o := range map[string]*awsid.WebIdentityOptions{
		"algorithm": {Audience: []string{"kafka"}, SigningAlgorithm: "https://x/?sig=s3cr3t-" + long},
		"tag key":   {Audience: []string{"kafka"}, Tags: map[string]string{"https://x/?sig=s3cr3t-*" + long: "v"}},
		"tag value": {Audience: []string{"kafka"}, Tags: map[string]string{"k": "https://x/?sig=s3cr3t-*" + long}},
	} {
		_, err := awsid.NewWebIdentity(context.Background(), o)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "s3cr3t", name)
		assert.NotContains(t, err.Error(), long, name)
	}
}

func TestWebIdentityCredentialProviderFailure(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Config = sdkConfig(e, "us-west-2", sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
			return sdkaws.Credentials{}, errors.New("no EC2 IMDS role found")
		}))
	})
	_, err := src.Token(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws: retrieving AWS credentials failed")
	assert.Contains(t, err.Error(), "no EC2 IMDS role found")
	assert.False(t, oauthbearer.IsTransient(err))
	assert.Empty(t, e.Requests())
}

// TestWebIdentityHTTPClientOption: WebIdentityOptions.HTTPClient carries
// the STS request. Fails when the field is ignored (checked by deleting
// its use): the SDK's client sent the request and the counter stayed 0.
func TestWebIdentityHTTPClientOption(t *testing.T) {
	t.Parallel()
	e := newSTS(t, nil)
	var sent atomic.Int32
	next := e.Client().Transport
	if next == nil {
		next = http.DefaultTransport
	}
	src := newWebIdentity(t, e, func(o *awsid.WebIdentityOptions) {
		o.Config.HTTPClient = nil
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			return next.RoundTrip(r)
		})}
	})
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Positive(t, sent.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
