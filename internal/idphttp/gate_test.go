package idphttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// recordingRT is the network: it records what reached it and answers 200.
type recordingRT struct {
	mu   sync.Mutex
	reqs []*http.Request
	resp func(*http.Request) *http.Response
}

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (r *recordingRT) NoMetadataProxy() {}

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	if r.resp != nil {
		return r.resp(req), nil
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func (r *recordingRT) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

type closeSpy struct {
	io.Reader
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }

func TestGateAdmitsOnlySafeTargets(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		metadata bool
		url      string
		ok       bool
	}{
		"https":                       {false, "https://idp.example/token", true},
		"loopback":                    {false, "http://127.0.0.1:8080/token", true},
		"localhost":                   {false, "http://localhost/token", true},
		"plain http":                  {false, "http://idp.example/token", false},
		"private address":             {false, "http://10.1.2.3/token", false},
		"imds for a non-metadata src": {false, "http://169.254.169.254/metadata/identity/oauth2/token", false},
		"imds":                        {true, "http://169.254.169.254/computeMetadata/v1/x", true},
		"aws imds ipv6":               {true, "http://[fd00:ec2::254]/latest/api/token", true},
		"checked metadata host":       {true, "http://metadata.test:8080/x", true},
		"metadata elsewhere":          {true, "http://10.1.2.3/computeMetadata/v1/x", false},
		"other scheme":                {true, "ftp://169.254.169.254/x", false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			net := &recordingRT{}
			c := Client(&http.Client{Transport: net}, "src")
			if tc.metadata {
				c = MetadataClient(&http.Client{Transport: net}, "src", "metadata.test")
			}
			body := &closeSpy{Reader: strings.NewReader("client_secret=s3cr3t-value")}
			req, err := http.NewRequest(http.MethodPost, tc.url+"?client_secret=q", body)
			require.NoError(t, err)
			resp, err := c.Do(req)
			if tc.ok {
				require.NoError(t, err)
				_ = resp.Body.Close()
				assert.Equal(t, 1, net.count())
				return
			}
			var ie *InsecureEndpointError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, 0, net.count(), "nothing was sent")
			assert.True(t, body.closed, "RoundTrip closes the body it does not send")
			assert.NotContains(t, ie.Error(), "client_secret")
			assert.Contains(t, ie.Error(), "src: refused to send a request to")
		})
	}
}

// TestGateRecordsWhatIsSent: form values, Basic authentication and
// credential headers land in the fetch's recorder, and the server still
// receives the body byte for byte.
func TestGateRecordsWhatIsSent(t *testing.T) {
	t.Parallel()
	var got url.Values
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		got = r.PostForm
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(s.Close)
	rec := fetchrec.New()
	ctx := fetchrec.With(context.Background(), rec)
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {"assertion-value-1234"}, "scope": {"kafka"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("id", "basic-secret-5678")
	req.Header.Set("X-Amz-Security-Token", "session-token-9012")
	resp, err := Client(nil, "src").Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, form, got)
	for _, v := range []string{"assertion-value-1234", "basic-secret-5678", "session-token-9012"} {
		assert.Contains(t, rec.Values(), v)
	}
	assert.NotContains(t, rec.Values(), "kafka")
}

func TestGateBoundsRequestsAndReplies(t *testing.T) {
	t.Parallel()
	var deadline bool
	net := &recordingRT{resp: func(r *http.Request) *http.Response {
		_, deadline = r.Context().Deadline()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", bodylimit.Default+1))), Request: r}
	}}
	c := Client(&http.Client{Transport: net}, "src")
	resp, err := c.Get("https://idp.example/token")
	require.NoError(t, err)
	assert.True(t, deadline, "a request without a deadline gets DefaultTimeout")
	_, err = io.ReadAll(resp.Body)
	var le *bodylimit.Error
	assert.ErrorAs(t, err, &le)
	require.NoError(t, resp.Body.Close())
}

// TestGateRefusesRedirectsItself: whatever the client's CheckRedirect
// (a library may copy the client), the transport turns a redirect into
// a RedirectError and the Location is never contacted.
func TestGateRefusesRedirectsItself(t *testing.T) {
	t.Parallel()
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere++ }))
	t.Cleanup(other.Close)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal?x=1", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(s.Close)
	c := Client(nil, "src")
	c.CheckRedirect = nil // as a library holding a copy might
	resp, err := c.Get(s.URL + "/token")
	if resp != nil {
		_ = resp.Body.Close()
	}
	assert.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
	assert.Zero(t, elsewhere)
}

// TestCacheScrubsWhatTheGateRecorded is the boundary end to end: a
// source that quotes an echoing server's raw reply (as x/oauth2's
// RetrieveError and azidentity's errors do) and scrubs nothing; the
// cache's error carries none of what the gate saw it send.
func TestCacheScrubsWhatTheGateRecorded(t *testing.T) {
	t.Parallel()
	const secret = "opaque-client-secret-77"
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s, form %s"}`, r.PostForm.Get("client_secret"), url.QueryEscape(r.PostForm.Get("client_secret")))
	}))
	t.Cleanup(s.Close)
	hc := Client(nil, "src")
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(url.Values{"client_secret": {secret}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return oauthbearer.Token{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return oauthbearer.Token{}, errors.New("library: cannot fetch token: " + string(b))
	})
	c, err := oauthbearer.NewCache(src, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.Token(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, err.Error(), url.QueryEscape(secret))
}

func TestCheckMetadataHost(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for host, ok := range map[string]bool{
		"169.254.169.254": true, "127.0.0.1:8080": true, "localhost:1234": true, "[::1]:80": true,
		"10.1.2.3": false, "8.8.8.8:80": false, "metadata.example.invalid": false, "": false,
	} {
		err := CheckMetadataHost(ctx, "gcp", "GCE_METADATA_HOST", host)
		if ok {
			assert.NoError(t, err, host)
			continue
		}
		require.Error(t, err, host)
		assert.Contains(t, err.Error(), "gcp: GCE_METADATA_HOST is ")
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestGuardGatesForeignDoers: a caller's own SDK client (an
// aws.HTTPClient that is not an *http.Client) gets the gate's checks
// from Guard: the target is admitted and the secrets recorded before it
// sees the request, and its reply is bounded.
func TestGuardGatesForeignDoers(t *testing.T) {
	t.Parallel()
	var calls int
	d := Guard(doerFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", bodylimit.Default+1))), Request: r}, nil
	}), "aws")
	req, err := http.NewRequest(http.MethodPost, "http://sts.example.test/", nil)
	require.NoError(t, err)
	_, err = d.Do(req)
	var ie *InsecureEndpointError
	require.ErrorAs(t, err, &ie)
	assert.Zero(t, calls)

	rec := fetchrec.New()
	req, err = http.NewRequestWithContext(fetchrec.With(context.Background(), rec), http.MethodPost, "https://sts.example.test/", strings.NewReader("Action=X&Token=web-identity-token-1"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Security-Token", "session-token-2345")
	resp, err := d.Do(req)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	var le *bodylimit.Error
	assert.ErrorAs(t, err, &le)
	assert.ElementsMatch(t, []string{"web-identity-token-1", "session-token-2345"}, rec.Values())
}

type idleSpy struct {
	recordingRT
	closed bool
}

func (s *idleSpy) CloseIdleConnections() { s.closed = true }

func TestGatePassesCloseIdleConnections(t *testing.T) {
	t.Parallel()
	spy := &idleSpy{}
	Client(&http.Client{Transport: spy}, "src").CloseIdleConnections()
	assert.True(t, spy.closed)
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "10.0.0.1": false, "example.com": false} {
		assert.Equal(t, want, IsLoopback(host), host)
	}
}
