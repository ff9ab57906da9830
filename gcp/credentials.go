package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// CloudPlatformScope is the OAuth scope of the access tokens
// [NewManagedKafka] wraps, as Google's handler requests.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// creds is where a source's Google credentials come from: the metadata
// server (json nil) or a credentials file's content.
type creds struct {
	json    []byte
	typ     string
	hc      *http.Client
	md      *metadata.Client
	mdHost  string
	setting string // the option or variable the credentials came from
	// subjectFile is an external account's credential_source.file, read
	// by us at each fetch (externalFileSource).
	subjectFile string
}

// resolve picks the credentials: explicit JSON, the metadata server, or
// ADC discovery. The ADC files are read here, bounded and under ctx
// (adcFile); without one, whether a metadata server is there is asked
// by our own probe (onGoogleCloud) on the gated client of useMetadata,
// never by compute/metadata's OnGCE, which also resolves a name and
// reads system files outside the gate. Every request goes through the module's credential gate (idphttp): a
// metadata-server source may use plain http to a link-local address or
// to the GCE_METADATA_HOST checked here; a credentials file only https
// or loopback, and its endpoints are checked before anything is sent.
func resolve(ctx context.Context, prefix string, jsonOpt []byte, metadataServer bool, hc *http.Client) (*creds, error) {
	c := &creds{}
	switch {
	case len(jsonOpt) > 0 && metadataServer:
		return nil, fmt.Errorf("gcp: %s.CredentialsJSON and %s.MetadataServer are both set; set one (or neither, for Application Default Credentials)", prefix, prefix)
	case metadataServer:
		c.setting = prefix + ".MetadataServer"
		return c, c.useMetadata(ctx, hc)
	case len(jsonOpt) > 0:
		c.json, c.setting = jsonOpt, prefix+".CredentialsJSON"
	default:
		b, setting, err := adcFile(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			// No file: the metadata server, if this process runs on
			// Google Cloud (GCE_METADATA_HOST checked first), probed
			// through the gated client under ctx.
			c.setting = "Application Default Credentials (metadata server)"
			if err := c.useMetadata(ctx, hc); err != nil {
				return nil, err
			}
			if !c.onGoogleCloud(ctx) {
				return nil, noADCError()
			}
			return c, nil
		}
		c.json, c.setting = b, setting
	}
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(c.json, &f); err != nil || f.Type == "" {
		// Never quote the content: it may be a private key.
		return nil, fmt.Errorf("gcp: the credentials from %s are not a Google credentials file (a JSON object with a \"type\"); check the file's content; %s", c.setting, see("gcp-no-adc"))
	}
	c.typ = f.Type
	if err := c.checkEndpoints(); err != nil {
		return nil, err
	}
	if c.typ == "external_account" {
		// Its credential_source.url may be a link-local metadata server
		// (workload identity federation from Azure or AWS).
		c.hc = classifyClient(idphttp.MetadataClient(hc, "gcp"))
	} else {
		c.hc = classifyClient(idphttp.Client(hc, "gcp"))
	}
	return c, nil
}

// useMetadata sets c up for the metadata server, at GCE_METADATA_HOST if
// set (checked: a loopback or link-local address, or a name resolving
// only to such), else 169.254.169.254.
func (c *creds) useMetadata(ctx context.Context, hc *http.Client) error {
	c.mdHost = os.Getenv("GCE_METADATA_HOST")
	if c.mdHost == "" {
		c.mdHost = "169.254.169.254"
	} else if err := idphttp.CheckMetadataHost(ctx, "gcp", "GCE_METADATA_HOST", c.mdHost); err != nil {
		return err
	}
	c.hc = classifyClient(idphttp.MetadataClient(hc, "gcp", c.mdHost))
	c.md = metadata.NewWithOptions(&metadata.Options{Client: c.hc})
	return nil
}

// mdProbeTimeout bounds onGoogleCloud's probe: off Google Cloud the
// metadata address may be blackholed, and ADC should fall through to its
// error quickly, as compute/metadata's 2s dial timeout makes it.
const mdProbeTimeout = 2 * time.Second

// onGoogleCloud reports whether a metadata server answers at c.mdHost,
// as ADC's check asks: a set GCE_METADATA_HOST is trusted (the user said
// so), else one GET of its root through c.hc (the gate, the caller's
// client and proxy rules), bounded by mdProbeTimeout under ctx, counts
// only a reply carrying Metadata-Flavor: Google. Unlike compute/metadata's
// OnGCE it resolves no name and reads no system file outside the gate.
func (c *creds) onGoogleCloud(ctx context.Context) bool {
	if os.Getenv("GCE_METADATA_HOST") != "" {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, mdProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.mdHost, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := c.hc.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.Header.Get("Metadata-Flavor") == "Google"
}

// noADCError is the error when Application Default Credentials find
// neither a file nor a metadata server.
func noADCError() error {
	return kindf(ErrNoCredentials, nil, "gcp: no Google Application Default Credentials found: GOOGLE_APPLICATION_CREDENTIALS is unset, there is no gcloud ADC file, and no metadata server answered (not on Google Cloud?); "+
		"on GCE/GKE/Cloud Run attach a service account (GKE: workload identity), elsewhere run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS; %s", see("gcp-no-adc"))
}

// contextWithClient is ctx carrying c's client for one fetch
// (fetchClient), where golang.org/x/oauth2 looks for its HTTP client.
func contextWithClient(ctx context.Context, c *creds) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.fetchClient(ctx))
}

// fromJSON builds a fresh token source from the credentials file for one
// fetch. Fresh, because the library's sources cache their token until 10s
// before expiry, which would hand the refreshing cache the same token
// again at its refresh point.
func (c *creds) fromJSON(ctx context.Context, scopes []string) (oauth2.TokenSource, error) {
	if ts, ok, err := c.externalFileSource(ctx, scopes); ok {
		return ts, err
	}
	octx := contextWithClient(ctx, c)
	gc, err := google.CredentialsFromJSONWithTypeAndParams(octx, c.json, google.CredentialsType(c.typ), google.CredentialsParams{Scopes: scopes})
	if err != nil {
		return nil, fmt.Errorf("gcp: the %q credentials from %s are not usable (%s); check the file; %s", c.typ, c.setting, srvtext.Clip(srvtext.Field(err.Error()), 300), see("gcp-no-adc"))
	}
	return gc.TokenSource, nil
}

// fileEmail is the principal a credentials file stands for, as Google's Java
// handler finds it: a key's client_email, the impersonation target of an
// impersonated or external account.
func (c *creds) fileEmail() (string, bool) {
	var f struct {
		ClientEmail      string `json:"client_email"`
		ImpersonationURL string `json:"service_account_impersonation_url"`
	}
	_ = json.Unmarshal(c.json, &f)
	if f.ClientEmail != "" {
		return f.ClientEmail, true
	}
	// .../v1/projects/-/serviceAccounts/<email>:generateAccessToken
	if i := strings.LastIndex(f.ImpersonationURL, "/serviceAccounts/"); i >= 0 {
		e := f.ImpersonationURL[i+len("/serviceAccounts/"):]
		e, _, _ = strings.Cut(e, ":")
		if e, err := url.PathUnescape(e); err == nil && e != "" {
			return e, true
		}
	}
	return "", false
}

// oauthToken runs ts.Token, which takes no context, so that ctx still
// bounds the caller; the library's requests end with ctx too, as they go
// through fetchClient.
func oauthToken(ctx context.Context, ts oauth2.TokenSource) (*oauth2.Token, error) {
	type res struct {
		t   *oauth2.Token
		err error
	}
	ch := make(chan res, 1)
	go func() {
		t, err := ts.Token()
		ch <- res{t, err}
	}()
	select {
	case r := <-ch:
		return r.t, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tokenError classifies an error of the library's token sources.
func (c *creds) tokenError(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return oauthbearer.Transient(fmt.Errorf("gcp: getting %s from %s timed out: %w", what, c.setting, err), 0)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		detail := srvtext.Clip(srvtext.Field(re.ErrorCode+" "+re.ErrorDescription), 200)
		switch {
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			return kindf(ErrPermission, nil, "gcp: Google refused %s for the %q credentials from %s (HTTP %d: %s); the credential lacks an IAM permission (impersonation needs roles/iam.serviceAccountTokenCreator on the target) or was revoked; %s", what, c.typ, c.setting, code, detail, see("gcp-permission"))
		case code == http.StatusTooManyRequests || code >= 500:
			return oauthbearer.Transient(fmt.Errorf("gcp: Google's token endpoint answered HTTP %d to %s for %s: %s", code, what, c.setting, detail), retryafter.Parse(re.Response.Header.Get("Retry-After"), time.Now()))
		default:
			return fmt.Errorf("gcp: Google refused %s for the %q credentials from %s (HTTP %d: %s); check the credentials file; %s", what, c.typ, c.setting, code, detail, see("gcp-no-adc"))
		}
	}
	if ge := c.gateError(what); ge != nil {
		return ge
	}
	// Network errors: the library does not say more, and its text has no
	// credential.
	return oauthbearer.Transient(fmt.Errorf("gcp: getting %s for the %q credentials from %s failed: %s", what, c.typ, c.setting, srvtext.Clip(srvtext.Field(err.Error()), 300)), 0)
}

// metadataGet reads a metadata server value with ctx, through the
// caller's HTTPClient, classifying its errors.
func (c *creds) metadataGet(ctx context.Context, what, suffix string) (string, error) {
	v, err := c.md.GetWithContext(context.WithValue(ctx, metadataKey{}, true), suffix)
	if err == nil {
		return v, nil
	}
	var se *statusError
	if errors.As(err, &se) {
		return "", oauthbearer.Transient(fmt.Errorf("gcp: the metadata server at %s answered HTTP %d to %s: %s", c.mdHost, se.code, what, srvtext.Clip(srvtext.Field(se.body), 200)), se.retryAfter)
	}
	if ctx.Err() != nil {
		return "", oauthbearer.Transient(fmt.Errorf("gcp: the metadata server at %s did not answer %s in time: %w", c.mdHost, what, ctx.Err()), 0)
	}
	var le *bodylimit.Error
	if errors.As(err, &le) {
		return "", fmt.Errorf("gcp: reading %s from the metadata server at %s: %w; %s", what, c.mdHost, le, see("gcp-not-on-gcp"))
	}
	var nd metadata.NotDefinedError
	if errors.As(err, &nd) {
		return "", kindf(ErrPermission, nil, "gcp: the metadata server at %s answered HTTP 404 to the request for %s: no service account is attached to this VM, node pool or Cloud Run service, or GKE workload identity is not enabled for the pod's Kubernetes service account; %s", c.mdHost, what, see("gcp-permission"))
	}
	var me *metadata.Error
	if errors.As(err, &me) {
		body := srvtext.Clip(srvtext.Field(me.Message), 200)
		switch {
		case me.Code == http.StatusForbidden:
			return "", kindf(ErrPermission, nil, "gcp: the metadata server at %s refused %s (HTTP 403: %s); the VM's access scopes must include %s, and the request must not go through a proxy; %s", c.mdHost, what, body, CloudPlatformScope, see("gcp-permission"))
		case me.Code == http.StatusBadRequest && strings.Contains(suffix, "identity"):
			return "", kindf(ErrAudience, nil, "gcp: the metadata server at %s refused an ID token (HTTP 400: %s); check IDTokenOptions.Audience; %s", c.mdHost, body, see("gcp-audience"))
		default:
			return "", fmt.Errorf("gcp: the metadata server at %s answered HTTP %d to %s: %s; %s", c.mdHost, me.Code, what, body, see("gcp-not-on-gcp"))
		}
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ne) {
		return "", oauthbearer.Transient(kindf(ErrNotOnGCP, err, "gcp: the metadata server at %s is unreachable (%s): this process is not on GCE, GKE or Cloud Run, or GCE_METADATA_HOST is wrong; off Google Cloud use a credentials file (GOOGLE_APPLICATION_CREDENTIALS); %s", c.mdHost, srvtext.Clip(srvtext.Field(err.Error()), 200), see("gcp-not-on-gcp")), 0)
	}
	return "", oauthbearer.Transient(fmt.Errorf("gcp: reading %s from the metadata server at %s failed: %s", what, c.mdHost, srvtext.Clip(srvtext.Field(err.Error()), 300)), 0)
}

// memo memoizes a value fetched once it is found, such as the metadata
// server's service-account email; a failed fetch is tried again next time.
type memo struct {
	mu sync.Mutex
	v  string
}

func (m *memo) get(ctx context.Context, fetch func(context.Context) (string, error)) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v != "" {
		return m.v, nil
	}
	v, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	m.v = v
	return v, nil
}

// classifyClient wraps the transport of c (a client from idphttp, whose
// credential gate refuses redirects and bounds reply bodies) in a
// classifyTransport.
func classifyClient(c *http.Client) *http.Client {
	c.Transport = &classifyTransport{base: c.Transport}
	return c
}

// metadataKey marks a metadata server request in its context.
type metadataKey struct{}

// statusError is a metadata server reply that compute/metadata would
// retry itself (429, 5xx), returned as a transport error it does not
// retry: the cache retries instead, paced by its backoff and the reply's
// Retry-After, which the library ignores.
type statusError struct {
	code       int
	retryAfter time.Duration
	body       string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// classifyTransport turns metadata replies the library would retry into
// a [*statusError], and notes the gate's own errors (gateerr.go), for the
// source's error messages.
type classifyTransport struct {
	base http.RoundTripper
	last atomic.Pointer[error] // gateerr.go
}

func (t *classifyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	t.note(err)
	if err != nil {
		return nil, err
	}
	if req.Context().Value(metadataKey{}) != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
		return nil, &statusError{code: resp.StatusCode, retryAfter: retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()), body: string(b)}
	}
	return resp, nil // the gate under base bounds the body
}
