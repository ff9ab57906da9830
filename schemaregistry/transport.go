package schemaregistry

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/confluentid"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Header names Confluent Cloud Schema Registry reads beside the token.
const (
	// HeaderLogicalCluster names the Schema Registry cluster (lsrc-...).
	HeaderLogicalCluster = "target-sr-cluster"
	// HeaderIdentityPool names the identity pool(s) (pool-...).
	HeaderIdentityPool = "Confluent-Identity-Pool-Id"
)

// TransportOptions configures [NewTransport]. The zero value (or nil) is
// valid. Fields have no environment fallback.
type TransportOptions struct {
	// LogicalCluster is the Schema Registry's logical cluster ID
	// (lsrc-...), sent as target-sr-cluster. Confluent Cloud requires it
	// for OAuth. Default: not sent.
	LogicalCluster string

	// IdentityPoolID is the identity pool ID (pool-...), or several
	// separated by commas, sent as Confluent-Identity-Pool-Id. Default:
	// not sent (auto pool mapping).
	IdentityPoolID string

	// Base carries the Schema Registry requests, as x/oauth2's
	// Transport.Base (the token source's requests to its identity
	// provider go through that source's own HTTPClient); configure TLS
	// (custom CAs, client certificates) on it. Default: a clone of http.DefaultTransport
	// (system roots).
	Base http.RoundTripper

	// AllowInsecureHTTP permits sending bearer tokens over plain http://
	// (or any scheme but https) to hosts other than loopback. Default
	// false: such requests fail without being sent, because anyone on
	// the path could replay the token; the rule is the one every
	// identity-provider request of this module follows.
	AllowInsecureHTTP bool

	// FetchTimeout bounds getting a token when the request's context has
	// no deadline. Default [oauthbearer.DefaultFetchTimeout] (30s).
	FetchTimeout time.Duration
}

// Transport is an [http.RoundTripper] that authenticates Schema Registry
// requests with bearer tokens from an [oauthbearer.TokenSource].
//
// The token (and the Confluent headers) go only to the origin (scheme,
// host and port) of the first request of a redirect chain: when an
// http.Client follows a redirect to another origin, that request is sent
// without them, as http.Client itself does with the caller's
// Authorization header.
//
// It never modifies the caller's request: it sends a clone carrying
// Authorization: Bearer <token> and, when configured, target-sr-cluster
// and Confluent-Identity-Pool-Id (replacing any the caller set). This
// matters with confluent-kafka-go, whose client shares one header map
// across requests.
//
// When the registry answers 401, the token is dropped from the source
// ([oauthbearer.Invalidate]) and the request is retried once with a fresh
// token, provided its body can be replayed (no body, or GetBody set, as
// http.NewRequest does for in-memory bodies). Otherwise the 401 is
// returned as is.
//
// A Transport is safe for concurrent use. The source should be cached (as
// every source of this module is): Token is called on every request.
type Transport struct {
	src          oauthbearer.TokenSource
	base         http.RoundTripper
	lsrc, pool   string
	insecure     bool
	tokenTimeout time.Duration
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport adding src's tokens to requests.
func NewTransport(src oauthbearer.TokenSource, opts *TransportOptions) (*Transport, error) {
	if src == nil {
		return nil, errors.New("schemaregistry: NewTransport: the token source is nil; pass a source such as one from the azure package")
	}
	var o TransportOptions
	if opts != nil {
		o = *opts
	}
	if err := checkIDs(o.LogicalCluster, o.IdentityPoolID, "TransportOptions"); err != nil {
		return nil, err
	}
	if o.Base == nil {
		o.Base = http.DefaultTransport.(*http.Transport).Clone()
	}
	var err error
	if o.FetchTimeout, err = cacheopts.FetchTimeout("schemaregistry.TransportOptions", o.FetchTimeout); err != nil {
		return nil, err
	}
	return &Transport{src: src, base: o.Base, lsrc: o.LogicalCluster, pool: o.IdentityPoolID, insecure: o.AllowInsecureHTTP, tokenTimeout: o.FetchTimeout}, nil
}

// NewHTTPClient returns an *http.Client over [NewTransport], with a 30s
// overall timeout, that follows redirects within the origin (scheme, host
// and port) of the request and refuses others with a [*RedirectError], for franz-go's sr.HTTPClient or confluent-kafka-go's
// Config.HTTPClient. (franz-go's sr.DialTLSConfig needs a bare
// *http.Transport; pass the TLS config there and as Base's.)
func NewHTTPClient(src oauthbearer.TokenSource, opts *TransportOptions) (*http.Client, error) {
	t, err := NewTransport(src, opts)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second, CheckRedirect: refuseCrossOrigin}, nil
}

// RoundTrip sends req with a bearer token, retrying once on 401.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("schemaregistry: the request has no URL")
	}
	if o, ok := chainOrigin(req); !ok || !sameOrigin(o, req.URL) {
		// A hop of a redirect to another origin (by a client other than
		// NewHTTPClient's): http.Client dropped the caller's credentials
		// for it, and so do we.
		return t.base.RoundTrip(req)
	}
	if !t.insecure && !idphttp.AllowsCredentials(req.URL) {
		closeBody(req)
		return nil, fmt.Errorf("schemaregistry: refusing to send a bearer token to %s: tokens go only over https, or plain http to a loopback host; use https, or set TransportOptions.AllowInsecureHTTP for a trusted network", srvtext.Quote(idphttp.Origin(req.URL), 0))
	}
	tok, err := t.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	sent := t.authorize(req, tok)
	resp, err := t.base.RoundTrip(sent)
	if resp != nil && resp.Request == nil {
		// Keep the redirect chain walkable for chainOrigin.
		resp.Request = sent
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// Rejected: drop the token so everyone gets a fresh one.
	oauthbearer.ReportRejection(t.src, "schemaregistry", "401")
	oauthbearer.Invalidate(t.src, tok)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay the body
	}
	fresh, err := t.token(req.Context())
	if err != nil || subtle.ConstantTimeCompare([]byte(fresh.Value), []byte(tok.Value)) == 1 {
		// No better token to try: let the caller see the 401.
		return resp, nil
	}
	retry := t.authorize(req, fresh)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	drain(resp)
	return t.base.RoundTrip(retry)
}

// authorize returns a clone of req carrying tok and the Confluent headers.
func (t *Transport) authorize(req *http.Request, tok oauthbearer.Token) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok.Value)
	if t.lsrc != "" {
		r.Header.Set(HeaderLogicalCluster, t.lsrc)
	}
	if t.pool != "" {
		r.Header.Set(HeaderIdentityPool, t.pool)
	}
	return r
}

func (t *Transport) token(ctx context.Context) (oauthbearer.Token, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.tokenTimeout)
		defer cancel()
	}
	tok, err := t.src.Token(ctx)
	if err != nil {
		return oauthbearer.Token{}, fmt.Errorf("schemaregistry: getting a bearer token: %w", err)
	}
	if tok.Value == "" {
		return oauthbearer.Token{}, errors.New("schemaregistry: the token source returned an empty token")
	}
	return tok, nil
}

// drain reads a little of a discarded response so its connection can be
// reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// checkIDs validates the Confluent IDs' shape so that typos fail early
// (the check client.properties' bearer.auth.* keys get too). A refusal
// is an *oauthbearer.OptionError of schemaregistry.<typ> naming the
// field, LogicalCluster or IdentityPoolID.
func checkIDs(lsrc, pool, typ string) error {
	err := confluentid.CheckPair(confluentid.RegistryCluster, typ+".LogicalCluster", lsrc, typ+".IdentityPoolID", pool)
	if err == nil {
		return nil
	}
	// CheckPair's only error is a *confluentid.FieldError.
	field := "LogicalCluster"
	if fe, _ := errors.AsType[*confluentid.FieldError](err); fe.Kind == confluentid.IdentityPools {
		field = "IdentityPoolID"
	}
	return &oauthbearer.OptionError{Options: "schemaregistry." + typ, Fields: []string{field}, Err: fmt.Errorf("schemaregistry: %w", err)}
}

// Format prints the type and the cluster only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (t *Transport) Format(f fmt.State, _ rune) {
	if t == nil {
		_, _ = io.WriteString(f, "schemaregistry.Transport(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "schemaregistry.Transport(%q)", t.lsrc)
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (t *Transport) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(t)), nil }
