package aws_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const redirectSessionToken = "session-token-for-redirect-0123456789abcdef"

func redirectCache() *oauthbearer.CacheOptions {
	return &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, FetchTimeout: 5 * time.Second}
}

// TestWebIdentityRefusesRedirects: an STS endpoint answering with a
// redirect must not make the client re-send the signed request, whose
// X-Amz-Security-Token header (the session token) Go copies to any host.
// Go does not follow a 307/308 of the SDK's requests (their body cannot be
// replayed) but follows a 302 as a GET with the same headers.
//
// Fails before the idphttp redirect policy: for 302 the trap received
// X-Amz-Security-Token; for 307/308 the error was STS's "UnknownError"
// with neither ErrRedirectRefused nor the Location's host.
func TestWebIdentityRefusesRedirects(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		for _, to := range []struct{ scheme, host string }{{"http", redirecttest.TrapHost}, {"https", redirecttest.TrapHost}, {"http", redirecttest.IdPHost}} {
			t.Run(fmt.Sprintf("%d/%s/%s", status, to.scheme, to.host), func(t *testing.T) {
				t.Parallel()
				b := redirecttest.New(t)
				sts := b.Serve(t, redirecttest.Redirect(status, b.TrapURL(to.scheme, to.host), nil, nil), true)
				endpoint := redirecttest.URLAt(sts, redirecttest.IdPHost)
				client := b.Client()
				src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: endpoint,
					Config: &sdkaws.Config{Region: "us-west-2", HTTPClient: client,
						Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, redirectSessionToken)},
					Cache: redirectCache()})
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })
				tok, err := src.Token(context.Background())
				assert.Empty(t, tok.Value)
				b.CheckRefused(t, err, endpoint, to.scheme, to.host, testSecret, redirectSessionToken)
				assert.Nil(t, client.CheckRedirect, "the caller's client was modified")
			})
		}
	}
}

// TestWebIdentityDefaultClientRefusesRedirects: the same with the SDK's
// default client (a Config without HTTPClient), which follows 307 and 308
// by design.
//
// Fails before the idphttp redirect policy: the trap received the signed
// request with the session token.
func TestWebIdentityDefaultClientRefusesRedirects(t *testing.T) {
	t.Parallel()
	b := redirecttest.New(t)
	sts := b.Serve(t, redirecttest.Redirect(http.StatusTemporaryRedirect, b.LoopbackTrapURL(), nil, nil), false)
	endpoint := strings.Replace(sts.URL, "127.0.0.1", "localhost", 1)
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: endpoint,
		Config: &sdkaws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, redirectSessionToken)},
		Cache:  redirectCache()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.Error(t, err)
	assert.Empty(t, b.Received(), "the redirect target received the request")
	assert.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
	assert.False(t, oauthbearer.IsTransient(err), "a refused redirect is permanent: %v", err)
	assert.Contains(t, err.Error(), endpoint)
	assert.NotContains(t, err.Error(), redirectSessionToken)
}

// TestWebIdentityEndpointMustBeHTTPSOrLoopback: SigV4 headers, the session
// token and the issued JWT must not cross a network in clear text.
//
// Fails before the https-or-loopback check: the source was built and
// its first fetch sent the signed request over plain http.
func TestWebIdentityEndpointMustBeHTTPSOrLoopback(t *testing.T) {
	t.Parallel()
	b := redirecttest.New(t)
	var got int
	sts := b.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got++ }), false)
	notLoopback := redirecttest.URLAt(sts, "sts.internal.test") // dialled on 127.0.0.1 by the bench's client
	for name, tc := range map[string]struct {
		endpoint, configEndpoint string
		wantErr                  string
	}{
		"option":                  {endpoint: notLoopback, wantErr: `aws: WebIdentityOptions.Endpoint is "` + notLoopback + `"`},
		"config base endpoint":    {configEndpoint: notLoopback, wantErr: `aws: WebIdentityOptions.Config.BaseEndpoint is "` + notLoopback + `"`},
		"user info and query":     {endpoint: "http://user:pass-word-123@sts.internal.test/?X-Amz-Security-Token=abc", wantErr: `"http://sts.internal.test/"`},
		"loopback http is fine":   {endpoint: sts.URL},
		"localhost http is fine":  {endpoint: strings.Replace(sts.URL, "127.0.0.1", "localhost", 1)},
		"https anywhere is fine":  {endpoint: "https://sts.internal.test"},
		"http to a private range": {endpoint: "http://10.0.0.1", wantErr: `aws: WebIdentityOptions.Endpoint is "http://10.0.0.1"`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := &sdkaws.Config{Region: "us-west-2", HTTPClient: b.Client(), Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")}
			if tc.configEndpoint != "" {
				cfg.BaseEndpoint = sdkaws.String(tc.configEndpoint)
			}
			src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: tc.endpoint, Config: cfg, Cache: redirectCache()})
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, src.Close())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "https")
			assert.NotContains(t, err.Error(), "pass-word-123")
			assert.NotContains(t, err.Error(), "X-Amz-Security-Token")
		})
	}
	assert.Zero(t, got, "nothing was sent")
}

// Not parallel: the default configuration reads the process environment.
//
// Fails before the https-or-loopback check: AWS_ENDPOINT_URL_STS on plain
// http to a remote host was accepted.
func TestWebIdentityEndpointFromEnvironmentMustBeHTTPSOrLoopback(t *testing.T) {
	setAWSEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_STS": "http://sts.internal.test:8080"})
	_, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `aws: AWS_ENDPOINT_URL_STS is "http://sts.internal.test:8080"`)

	setAWSEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://aws.internal.test"})
	_, err = awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `aws: AWS_ENDPOINT_URL is "http://aws.internal.test"`)
}

// TestWebIdentityDefaultClientLeavesNoGoroutine is not parallel: goleak
// looks at every goroutine. With the SDK's default client (a Config
// without HTTPClient), no connection goroutine outlives the source's
// Close while STS keeps running.
//
// Fails before the default client disabled keep-alives: the idle
// connection's readLoop and writeLoop were still running after Close.
func TestWebIdentityDefaultClientLeavesNoGoroutine(t *testing.T) {
	e := newSTS(t, nil)
	before := leakcheck.Current()
	cfg := sdkConfig(e, "us-west-2", nil)
	cfg.HTTPClient = nil
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Config: cfg})
	require.NoError(t, err)
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, src.Close())
	leakcheck.VerifyNone(t, before)
}
