package oauthbearer

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/obsctx"
)

// Observer receives what a [Cache] does, for metrics and traces: set
// [CacheOptions.Observer]. The plugin modules (plugin/kwiprom for
// Prometheus, plugin/kwiotel for OpenTelemetry) implement it; the core
// module depends on neither.
//
// Every method is called on the refresh path, never by a [Cache.Token]
// call served from the held token, so an observer costs the hot path
// nothing. Methods are called from the cache's goroutines and must be
// safe for concurrent use and return quickly. No event carries a token,
// a credential or a claim; error texts are the cache's, which never
// quote a secret, but they are unbounded: use [RefreshEvent.ErrorType]
// as a label, never the text.
//
// An Observer may also implement [RequestObserver] to learn of each HTTP
// request to the identity provider.
type Observer interface {
	// CacheOpened is called by [NewCache] with the new cache, and
	// CacheClosed by [Cache.Close]. An observer reads a cache's state
	// with [Cache.Status] when it is collected (an observable gauge),
	// not per token.
	CacheOpened(c *Cache)
	CacheClosed(c *Cache)
	// FetchStarted is called when the cache calls its source. The
	// context it returns (derived from ctx, for example carrying a span)
	// is the one the source gets, and is passed to FetchEnded.
	FetchStarted(ctx context.Context, ev FetchEvent) context.Context
	// FetchEnded is called after every fetch that FetchStarted saw, with
	// the same event [CacheOptions.OnRefresh] gets.
	FetchEnded(ctx context.Context, ev RefreshEvent)
	// Waited is called when a caller of [Cache.Token] had no usable token
	// and waited for a fetch: ctx is the caller's, fetch the context
	// FetchStarted returned (to link the caller's span to the fetch's).
	// It is not called when the caller gave up first.
	Waited(ctx, fetch context.Context)
	// Invalidated is called when [Cache.Invalidate] dropped the token
	// being handed out.
	Invalidated(ev InvalidationEvent)
	// Rejected is called when an adapter reports a server's rejection
	// with [ReportRejection].
	Rejected(ev RejectionEvent)
}

// RequestObserver is implemented by an [Observer] that wants to know of
// each HTTP request this module's sources send to an identity provider
// during a fetch (IMDS, Entra ID, STS, a token endpoint). RequestStarted
// gets the fetch's context (as FetchStarted returned it) and returns the
// request's; RequestEnded gets that context. Requests made by a
// caller-supplied SDK client that bypasses this module's HTTP client are
// not seen.
type RequestObserver interface {
	// RequestStarted is called before the request is sent, with the
	// fetch's context; the context it returns is the request's.
	RequestStarted(ctx context.Context, r RequestInfo) context.Context
	// RequestEnded is called once the reply's headers arrived or the
	// request failed, with the context RequestStarted returned.
	RequestEnded(ctx context.Context, r RequestInfo, res RequestResult)
}

// RequestInfo describes an identity-provider HTTP request by what is safe
// to record and bounded: no path, query or header.
type RequestInfo struct {
	// Method is the HTTP method, such as "GET" or "POST".
	Method string
	// Scheme is the URL's scheme, "http" or "https".
	Scheme string
	// ServerAddress is the URL's host name or IP address, without port.
	ServerAddress string
	// ServerPort is the URL's port, or 80 or 443 from the scheme when the
	// URL has none.
	ServerPort int
}

// RequestResult is how a request ended.
type RequestResult struct {
	// StatusCode is the reply's HTTP status, or 0 when none arrived.
	StatusCode int
	// ErrorType is "" for a 2xx/3xx reply, else one of the ErrorType
	// values (see [RefreshEvent.ErrorType]). The transport error itself
	// is not passed on: it is raw (the cache scrubs errors only where
	// they leave a fetch) and may quote the request's URL.
	ErrorType string
}

// FetchEvent describes a fetch as it starts.
type FetchEvent struct {
	// Source is [CacheOptions.Name]; Kind is the source kind (see
	// [CacheStatus.Kind]).
	Source, Kind string
	// Start is when the fetch started, by the cache's [Clock].
	Start time.Time
	// Background is true when a usable token is being served meanwhile,
	// so no caller waits for this fetch.
	Background bool
}

// InvalidationEvent describes a token dropped by [Cache.Invalidate].
type InvalidationEvent struct {
	// Source is [CacheOptions.Name]; Kind is the source kind (see
	// [CacheStatus.Kind]).
	Source, Kind string
	// Rejections counts consecutive rejections of young tokens,
	// including this one; NextFetchDelay is the backoff they impose.
	Rejections     int
	NextFetchDelay time.Duration
}

// RejectionEvent describes a server's rejection of a token, reported by
// an adapter.
type RejectionEvent struct {
	// Source is [CacheOptions.Name] of the rejected token's cache; Kind
	// is the source kind (see [CacheStatus.Kind]).
	Source, Kind string
	// Adapter is the reporting package: "franzsasl", "saramasasl",
	// "confluentkafka", "kafkagosasl" or "schemaregistry".
	Adapter string
	// Status is the server's status reduced to a fixed set:
	// "invalid_token", "invalid_request", "insufficient_scope",
	// "JWT_PROCESSING_FAILED", "JWT_HEADER_KID_LOOKUP_FAILED", "401",
	// "403", or "other".
	Status string
}

// The error types of [RefreshEvent.ErrorType] and [RequestResult]: a
// fixed set, so they can be metric labels.
const (
	ErrorTypeConnect  = "connect"          // DNS, dial, connection refused or reset
	ErrorTypeTLS      = "tls"              // handshake, certificate
	ErrorTypeTimeout  = "timeout"          // a deadline passed
	ErrorTypeRefused  = "refused"          // the provider answered 400, 401 or 403: it refused these credentials
	ErrorTypeHTTP4xx  = "http_4xx"         // another 4xx (404, 429, ...)
	ErrorTypeHTTP5xx  = "http_5xx"         // a 5xx
	ErrorTypeConfig   = "config"           // a permanent failure before or without a provider's answer (settings, redirect refused, no identity)
	ErrorTypeResponse = "invalid_response" // the provider's token is unusable (empty, no expiry, already expiring)
	ErrorTypeClosed   = "closed"           // the cache was closed
	ErrorTypeOther    = "other"
)

// CacheStatus is a cache's state, without its token.
type CacheStatus struct {
	// Name is [CacheOptions.Name]. Kind is the kind of source, set by
	// this module's constructors from a fixed set ("azure managed
	// identity", "aws sts web identity", "token file", ...), or "custom"
	// for a cache built with [NewCache] around another source.
	Name, Kind string
	// Held reports whether a token is being handed out; Expiry is its
	// expiry and UsableUntil when the cache stops handing it out.
	Held                bool
	Expiry, UsableUntil time.Time
	// Failures counts consecutive failed fetches; NextRetry is when the
	// next attempt may start after them (zero after a success).
	Failures  int
	NextRetry time.Time
	// Remaining is how long the held token stays valid (0 when none is
	// held), and RetryIn how long until NextRetry (0 when it passed or
	// none is pending), both by the cache's clock when Status was called.
	Remaining, RetryIn time.Duration
}

// Status returns the cache's state. It takes the cache's lock, so call it
// when metrics are collected, not per token.
func (c *Cache) Status() CacheStatus {
	s := CacheStatus{Name: c.name, Kind: c.kind}
	if e := c.cur.Load(); e != nil {
		s.Held, s.Expiry, s.UsableUntil = true, e.tok.Expiry, time.Unix(0, e.usableUntil)
	}
	c.mu.Lock()
	s.Failures, s.NextRetry = c.failures, c.retryAt
	c.mu.Unlock()
	now := c.now()
	if s.Held {
		s.Remaining = max(s.Expiry.Sub(now), 0)
	}
	if !s.NextRetry.IsZero() {
		s.RetryIn = max(s.NextRetry.Sub(now), 0)
	}
	return s
}

// ReportRejection tells the [Observer] of src's cache that a server
// rejected a token with status (see [RejectionEvent.Status]), as
// reported by adapter. The adapters and the schemaregistry transport
// call it next to [Invalidate]; src may be a [*Cache] or an
// [*ExtensionSource] around one. It does nothing when no observer is
// set.
func ReportRejection(src TokenSource, adapter, status string) {
	c := observedCache(src)
	if c == nil || c.obs == nil {
		return
	}
	c.obs.Rejected(RejectionEvent{Source: c.name, Kind: c.kind, Adapter: adapter, Status: rejectionStatus(status)})
}

func observedCache(src TokenSource) *Cache {
	for range 8 { // wrappers of wrappers, bounded
		switch s := src.(type) {
		case *Cache:
			return s
		case *ExtensionSource:
			src = s.src
		default:
			return nil
		}
	}
	return nil
}

func rejectionStatus(s string) string {
	switch s {
	case "invalid_token", "invalid_request", "insufficient_scope", "JWT_PROCESSING_FAILED", "JWT_HEADER_KID_LOOKUP_FAILED", "401", "403":
		return s
	}
	return "other"
}

// sourceKind is the label observers see next to the cache's Name: the
// fixed kind a source of this module declares through a TokenSourceKind
// method, or "custom".
func sourceKind(src TokenSource) string {
	if k, ok := src.(interface{ TokenSourceKind() string }); ok && k.TokenSourceKind() != "" {
		return k.TokenSourceKind()
	}
	return "custom"
}

// fetchProbe rides in a fetch's context: internal/idphttp calls it for
// each request, so the cache knows the last request's outcome for
// ErrorType, and a RequestObserver sees each request.
type fetchProbe struct {
	ro     RequestObserver
	mu     sync.Mutex
	status int // of the last request
	err    error
}

func newFetchProbe(ro RequestObserver) *fetchProbe { return &fetchProbe{ro: ro} }

func (p *fetchProbe) Start(ctx context.Context, r obsctx.Request) context.Context {
	if p.ro == nil {
		return ctx
	}
	return p.ro.RequestStarted(ctx, RequestInfo(r))
}

func (p *fetchProbe) End(ctx context.Context, r obsctx.Request, status int, err error) {
	p.mu.Lock()
	p.status, p.err = status, err
	p.mu.Unlock()
	if p.ro != nil {
		p.ro.RequestEnded(ctx, RequestInfo(r), RequestResult{StatusCode: status, ErrorType: requestErrorType(status, err)})
	}
}

func (p *fetchProbe) lastRequest() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, p.err
}

// observeStart runs before every fetch: it returns the fetch's parent
// context carrying a probe, through which the credential gate reports
// each request's outcome, and tells the observer, if set. The probe is
// there without an observer too: the error a fetch returns is sealed
// (fetchrec.Error hides the net, TLS and SDK types behind it), so
// RefreshEvent.ErrorType is classified from what the gate saw.
func (c *Cache) observeStart(f *flight, start time.Time) context.Context {
	ro, _ := c.obs.(RequestObserver) // nil when c.obs is
	f.probe = newFetchProbe(ro)
	if c.obs == nil {
		return obsctx.With(c.ctx, f.probe)
	}
	c.mu.Lock()
	prev := c.cur.Load()
	c.mu.Unlock()
	ev := FetchEvent{Source: c.name, Kind: c.kind, Start: start, Background: prev != nil && unixNano(start) < prev.usableUntil}
	ctx := c.obs.FetchStarted(c.ctx, ev)
	if ctx == nil {
		ctx = c.ctx
	}
	// The fetch's cancellation stays the cache's (Close, and the timeout
	// added by fetch) whatever context the observer returned; its values
	// (a span) come from the observer's.
	return obsctx.With(valuesOf{Context: c.ctx, values: ctx}, f.probe)
}

// valuesOf is ctx's deadline and cancellation with values' values.
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// observeEnd completes ev for observers and tells them.
func (c *Cache) observeEnd(f *flight, ev *RefreshEvent) {
	ev.Kind = c.kind
	if ev.Err != nil {
		var status int
		var reqErr error
		if f != nil && f.probe != nil {
			status, reqErr = f.probe.lastRequest()
		}
		ev.ErrorType = errorType(ev.Err, status, reqErr)
	}
	if c.obs != nil && f != nil && f.octx != nil {
		c.obs.FetchEnded(f.octx, *ev)
	}
}

// requestErrorType classifies one request's outcome.
func requestErrorType(status int, err error) string {
	switch {
	case err != nil:
		return transportErrorType(err)
	case status == 400 || status == 401 || status == 403:
		return ErrorTypeRefused
	case status >= 500:
		return ErrorTypeHTTP5xx
	case status >= 400:
		return ErrorTypeHTTP4xx
	}
	return ""
}

// errorType classifies a failed fetch, from the last identity-provider
// request's outcome when there was one, else from err's types.
func errorType(err error, status int, reqErr error) string {
	if t := requestErrorType(status, reqErr); t != "" && t != ErrorTypeOther {
		return t
	}
	var oe *OptionError
	var ee *ExtensionError
	var se *TokenSyntaxError
	var ue *unusableTokenError
	switch {
	case errors.Is(err, ErrClosed):
		return ErrorTypeClosed
	case errors.As(err, &oe), errors.As(err, &ee), errors.Is(err, ErrRedirectRefused):
		return ErrorTypeConfig
	case errors.As(err, &se), errors.As(err, &ue):
		return ErrorTypeResponse
	}
	if t := transportErrorType(err); t != ErrorTypeOther {
		return t
	}
	if !IsTransient(err) {
		return ErrorTypeConfig
	}
	return ErrorTypeOther
}

// unusableTokenError marks the cache's refusal of the token a source
// returned (see Cache.check); its message is the wrapped error's.
type unusableTokenError struct{ err error }

func (e *unusableTokenError) Error() string { return e.err.Error() }
func (e *unusableTokenError) Unwrap() error { return e.err }
