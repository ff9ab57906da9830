package gcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// network records every request that reached it, and answers 500.
type network struct {
	mu   sync.Mutex
	reqs []string
}

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (n *network) NoMetadataProxy() {}

func (n *network) RoundTrip(req *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.reqs = append(n.reqs, req.URL.String())
	n.mu.Unlock()
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func (n *network) sent() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.reqs...)
}

// Fails on main before the credential gate: x/oauth2 builds the error
// text of an echoing token endpoint (RetrieveError) and the source
// scrubbed it without knowing what had been sent, so the subject token
// (opaque, not JWT-shaped) and the client secret were quoted.
func TestExternalAccountEchoIsScrubbed(t *testing.T) {
	const subject = "opaque-subject-token-value-1234"
	const secret = "client-secret-value-5678"
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, pass, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": fmt.Sprintf("bad subject_token %s (%s) for client secret %s", r.PostForm.Get("subject_token"), url.QueryEscape(r.PostForm.Get("subject_token")), pass)})
	}))
	t.Cleanup(sts.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "subject")
	require.NoError(t, os.WriteFile(tokenFile, []byte(subject), 0o600))
	cfg, err := json.Marshal(map[string]any{
		"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": sts.URL + "/v1/token",
		"client_id": "client-id", "client_secret": secret,
		"credential_source": map[string]any{"file": tokenFile},
	})
	require.NoError(t, err)
	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: cfg, Principal: "sa@p.iam.gserviceaccount.com",
		Cache: &oauthbearer.CacheOptions{FetchTimeout: 5 * time.Second}})
	err = fetchErr(t, src, err)
	assert.Contains(t, err.Error(), "invalid_grant", "the server's error is still quoted")
	for _, v := range []string{subject, url.QueryEscape(subject), secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
		assert.NotContains(t, err.Error(), v)
	}
}

// Fails on main: a key whose token_uri is plain http to a non-loopback
// host received the signed assertion in clear text at the first fetch.
func TestServiceAccountKeyPlainHTTPTokenURIRefused(t *testing.T) {
	t.Parallel()
	g := idptest.NewGCE(t, nil)
	var key map[string]any
	require.NoError(t, json.Unmarshal(g.ServiceAccountKeyJSON, &key))
	key["token_uri"] = "http://oauth2.example.test/token"
	b, err := json.Marshal(key)
	require.NoError(t, err)
	net := &network{}
	for name, make := range map[string]func() (*oauthbearer.Cache, error){
		"managed kafka": func() (*oauthbearer.Cache, error) {
			return NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: b, HTTPClient: &http.Client{Transport: net}})
		},
		"id token": func() (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{Audience: "a", CredentialsJSON: b, HTTPClient: &http.Client{Transport: net}})
		},
	} {
		src, err := make()
		if err == nil {
			_, err = src.Token(t.Context())
			_ = src.Close()
		}
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "token_uri in the \"service_account\" credentials from", name)
		assert.Contains(t, err.Error(), "only over https", name)
	}
	assert.Empty(t, net.sent(), "nothing was sent")
}

// Fails on main: GCE_METADATA_HOST pointing at a host that is neither
// loopback nor link-local got the token requests over plain http.
func TestMetadataHostMustBeLocal(t *testing.T) {
	for _, host := range []string{"10.1.2.3:80", "8.8.8.8", "metadata.example.invalid"} {
		t.Setenv("GCE_METADATA_HOST", host)
		net := &network{}
		src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{MetadataServer: true, HTTPClient: &http.Client{Transport: net},
			Cache: &oauthbearer.CacheOptions{FetchTimeout: 3 * time.Second}})
		if err == nil {
			_, err = src.Token(t.Context())
			_ = src.Close()
		}
		require.Error(t, err, host)
		assert.Contains(t, err.Error(), "GCE_METADATA_HOST is", host)
		assert.Empty(t, net.sent(), "nothing was sent to %s", host)
	}
	// A loopback emulator stays usable.
	g := idptest.NewGCE(t, nil)
	onGCE(t, g)
	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{MetadataServer: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(t.Context())
	require.NoError(t, err)
}

// Fails on main: GOOGLE_APPLICATION_CREDENTIALS naming a FIFO blocked the
// constructor for good (x/oauth2 opened it with os.ReadFile, past any
// context), and a huge file was read whole.
func TestApplicationCredentialsFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	huge := filepath.Join(dir, "huge.json")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 64<<20)) // sparse: no disk used
	t.Setenv("HOME", t.TempDir())
	for path, want := range map[string]string{fifo: "named pipe (FIFO)", huge: "67108864 bytes, more than the limit of 65536 bytes"} {
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := leakcheck.Returns(t, "NewManagedKafka", func() error { _, err := NewManagedKafka(ctx, nil); return err })
		cancel()
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS")
		assert.ErrorIs(t, err, ErrNoCredentials)
	}
}

// Fails on main: an external account's credential_source.file swapped
// for a FIFO blocked x/oauth2's goroutine in open(2) for good: the fetch
// returned at its timeout, but the goroutine outlived Close.
func TestSubjectTokenFileFIFODoesNotOutliveClose(t *testing.T) {
	snap := leakcheck.Current()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "subject")
	require.NoError(t, syscall.Mkfifo(tokenFile, 0o600))
	cfg, err := json.Marshal(map[string]any{
		"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.example.test/v1/token",
		"credential_source": map[string]any{"file": tokenFile},
	})
	require.NoError(t, err)
	net := &network{}
	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: cfg, Principal: "sa@p.iam.gserviceaccount.com", HTTPClient: &http.Client{Transport: net},
		Cache: &oauthbearer.CacheOptions{FetchTimeout: 2 * time.Second}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = leakcheck.Returns(t, "Token", func() error { _, err := src.Token(ctx); return err })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "named pipe (FIFO)")
	assert.Contains(t, err.Error(), "credential_source.file")
	require.NoError(t, leakcheck.Returns(t, "Close", src.Close))
	assert.Empty(t, net.sent())
	leakcheck.VerifyNone(t, snap)
}

// TestExternalAccountSubjectFileFormats: the subject token file read by
// the module (text, or a JSON object's field) reaches Google's STS as
// x/oauth2 would have sent it.
func TestExternalAccountSubjectFileFormats(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm.Get("subject_token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.access", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(sts.Close)
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		format  map[string]any
	}{
		"text": {"  subject-from-text\n", nil},
		"json": {`{"id_token":"subject-from-json","other":1}`, map[string]any{"type": "json", "subject_token_field_name": "id_token"}},
	} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(tc.content), 0o600))
		cs := map[string]any{"file": f}
		if tc.format != nil {
			cs["format"] = tc.format
		}
		cfg, err := json.Marshal(map[string]any{"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",
			"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": sts.URL + "/v1/token", "credential_source": cs})
		require.NoError(t, err)
		src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: cfg, Principal: "sa@p.iam.gserviceaccount.com"})
		require.NoError(t, err)
		tok, err := src.Token(t.Context())
		require.NoError(t, err, name)
		_, _, access := decodeWrapper(t, tok.Value)
		assert.Equal(t, "ya29.access", access)
		require.NoError(t, src.Close())
	}
	assert.ElementsMatch(t, []string{"subject-from-text", "subject-from-json"}, got)
}

// forward records the path of every request it carries (the gated
// client's), and sends it on.
type forward struct {
	mu    sync.Mutex
	paths []string
}

// NoMetadataProxy tells the credential gate that this transport sends
// metadata requests without a proxy, so the gate keeps it for them.
func (f *forward) NoMetadataProxy() {}

func (f *forward) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.paths = append(f.paths, req.URL.Path)
	f.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (f *forward) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...)
}

// Fails on main (run alone: compute/metadata caches the answer
// process-wide): with no credentials file, ADC discovery asked the
// metadata server at GCE_METADATA_HOST for the project id through
// compute/metadata's process-wide client, past the credential gate and
// the caller's context.
func TestNoADCFileAsksOnlyThroughTheGate(t *testing.T) {
	var mu sync.Mutex
	var reached []string
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Metadata-Flavor", "Google")
		if r.URL.Path == "/computeMetadata/v1/project/project-id" {
			_, _ = io.WriteString(w, "proj")
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(md.Close)
	t.Setenv("GCE_METADATA_HOST", md.Listener.Addr().String())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	gated := &forward{}
	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{Principal: "sa@p.iam.gserviceaccount.com", HTTPClient: &http.Client{Transport: gated}})
	require.NoError(t, err)
	require.NoError(t, src.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, gated.sent(), reached, "the metadata server was reached only through the gated client")
}

// With no credentials file and no GCE_METADATA_HOST off Google Cloud,
// the constructor says so (ErrNoCredentials); its probe of the metadata
// address went through the caller's client (the gate), and its probing
// goroutines ended with it. Fails on main after the test above: ADC's
// metadata.OnGCE had memoized "on Google Cloud" for the whole process.
func TestNoADCOffGoogleCloud(t *testing.T) {
	snap := leakcheck.Current()
	t.Setenv("GCE_METADATA_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	net := &network{}
	err := leakcheck.Returns(t, "NewManagedKafka", func() error {
		_, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{HTTPClient: &http.Client{Transport: net}})
		return err
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNoCredentials)
	assert.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS is unset")
	assert.Contains(t, err.Error(), see("gcp-no-adc"))
	for _, u := range net.sent() {
		assert.Equal(t, "http://169.254.169.254", u)
	}
	leakcheck.VerifyNone(t, snap)
}

// googleNet answers every request as a metadata server does (header
// Metadata-Flavor: Google) and records the headers each one carried;
// hang makes it wait instead until the request's context ends.
type googleNet struct {
	hang bool
	mu   sync.Mutex
	reqs []http.Header
	urls []string
}

func (n *googleNet) NoMetadataProxy() {}

func (n *googleNet) RoundTrip(req *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.reqs = append(n.reqs, req.Header.Clone())
	n.urls = append(n.urls, req.URL.String())
	n.mu.Unlock()
	if n.hang {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Metadata-Flavor": {"Google"}}, Body: io.NopCloser(strings.NewReader("computeMetadata/\n")), Request: req}, nil
}

// Fails on main: ADC's check was compute/metadata's OnGCE, whose HTTP
// probe carries no Metadata-Flavor header and which raced it against a
// DNS lookup of metadata.google.internal outside the caller's client
// (off Google Cloud the lookup's "no" often won over a metadata server
// reached through the caller's client). Now the one probe goes through
// the caller's client, asks as a metadata client does, and its answer
// decides.
func TestNoADCFileProbesMetadataThroughTheClient(t *testing.T) {
	t.Setenv("GCE_METADATA_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	for range 5 { // the race on main went either way
		n := &googleNet{}
		src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{Principal: "sa@p.iam.gserviceaccount.com", HTTPClient: &http.Client{Transport: n}})
		require.NoError(t, err)
		require.NoError(t, src.Close())
		n.mu.Lock()
		require.Equal(t, []string{"http://169.254.169.254"}, n.urls)
		assert.Equal(t, "Google", n.reqs[0].Get("Metadata-Flavor"))
		n.mu.Unlock()
	}
}

// A metadata address that never answers (blackholed off Google Cloud)
// holds the constructor only for the probe's bound, not for ctx's life.
func TestNoADCProbeIsBounded(t *testing.T) {
	t.Setenv("GCE_METADATA_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	synctest.Test(t, func(t *testing.T) {
		n := &googleNet{hang: true}
		start := time.Now()
		_, err := NewManagedKafka(context.Background(), &ManagedKafkaOptions{HTTPClient: &http.Client{Transport: n}})
		assert.ErrorIs(t, err, ErrNoCredentials)
		assert.Equal(t, mdProbeTimeout, time.Since(start), "fake time: the probe's bound, no more")
	})
}
