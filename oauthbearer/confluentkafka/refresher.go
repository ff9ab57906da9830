//go:build cgo

package confluentkafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Client is what a [Refresher] needs from a confluent-kafka-go client:
// *kafka.Producer, *kafka.Consumer and *kafka.AdminClient all have these
// methods (they are those of kafka.Handle). A client that also has
// IsClosed() bool (all three do) is checked before every call, so a
// refresher stops by itself once its client is closed.
type Client interface {
	SetOAuthBearerToken(kafka.OAuthBearerToken) error
	SetOAuthBearerTokenFailure(errstr string) error
}

var (
	_ Client = (*kafka.Producer)(nil)
	_ Client = (*kafka.Consumer)(nil)
	_ Client = (*kafka.AdminClient)(nil)
)

// Options tunes a [Refresher]. A nil *Options means the defaults. No field
// has an environment-variable fallback.
type Options struct {
	// FetchTimeout bounds each token fetch from the source. Default
	// [oauthbearer.DefaultFetchTimeout] (30s).
	FetchTimeout time.Duration

	// MinBackoff and MaxBackoff bound the delay before retrying after the
	// source failed: it doubles from MinBackoff up to MaxBackoff, with
	// jitter, and is never shorter than a [oauthbearer.TransientError]'s
	// RetryAfter. Defaults 1s and 30s. (librdkafka itself would ask again
	// after 10s.)
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// Logger receives a debug record per token set and a warning per
	// failure, never the token. Default: discard.
	Logger *slog.Logger
}

// setFraction is the part of a set token's remaining life after which the
// refresher sets a token again. librdkafka asks for a new token at 0.8 of
// it; 0.5 leaves room for a slow fetch and for scheduling delays.
const setFraction = 0.5

// minInterval keeps a token with an implausibly short remaining life from
// turning the refresher into a busy loop.
const minInterval = 250 * time.Millisecond

// Refresher keeps one confluent-kafka-go client supplied with tokens; see
// the package documentation. Its methods are safe for concurrent use.
type Refresher struct {
	client Client
	src    oauthbearer.TokenSource
	opts   Options
	log    *slog.Logger

	cancel context.CancelFunc
	kick   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	last    oauthbearer.Token // the token last set, for invalidation on rejection
	ready   chan struct{}     // closed once a token has been set
	lastErr error             // the last failure, nil after a success
	sets    int
}

// NewRefresher starts a goroutine that sets a token on client from src at
// once and keeps it current until [Refresher.Close] (or until the client
// is closed). The client must be configured with sasl.mechanism
// OAUTHBEARER and must not use sasl.oauthbearer.method=oidc (librdkafka's
// own token fetcher). It returns an error only for nil arguments or bad
// options; token problems are reported through the client (as librdkafka
// error events), the logger and [Refresher.Ready].
func NewRefresher(client Client, src oauthbearer.TokenSource, opts *Options) (*Refresher, error) {
	if client == nil {
		return nil, errors.New("confluentkafka: NewRefresher got a nil client; pass the *kafka.Producer, *kafka.Consumer or *kafka.AdminClient")
	}
	if src == nil {
		return nil, errors.New("confluentkafka: NewRefresher got a nil token source; pass one such as azure.NewManagedIdentity's")
	}
	o := Options{FetchTimeout: oauthbearer.DefaultFetchTimeout, MinBackoff: time.Second, MaxBackoff: 30 * time.Second}
	log := slog.New(slog.DiscardHandler)
	if opts != nil {
		if opts.FetchTimeout < 0 || opts.MinBackoff < 0 || opts.MaxBackoff < 0 {
			return nil, fmt.Errorf("confluentkafka: Options has a negative duration (FetchTimeout %v, MinBackoff %v, MaxBackoff %v); use 0 for the defaults",
				opts.FetchTimeout, opts.MinBackoff, opts.MaxBackoff)
		}
		if opts.FetchTimeout > 0 {
			o.FetchTimeout = opts.FetchTimeout
		}
		if opts.MinBackoff > 0 {
			o.MinBackoff = opts.MinBackoff
		}
		if opts.MaxBackoff > 0 {
			o.MaxBackoff = opts.MaxBackoff
		}
		if opts.Logger != nil {
			log = opts.Logger
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("confluentkafka: Options.MaxBackoff %v is below MinBackoff %v; raise MaxBackoff", o.MaxBackoff, o.MinBackoff)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Refresher{
		client: client, src: src, opts: o, log: log,
		cancel: cancel,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	go r.run(ctx)
	return r, nil
}

// Handle answers ev if it is a kafka.OAuthBearerTokenRefresh, by making
// the refresher set a token now (without blocking the caller), and
// reports whether it was one. Pass it every event from Poll or Events if
// you like; other events are reported false for the application to handle
// as usual. One of them is also acted on: a broker's rejection of the
// token (a kafka.Error that [Explain] recognises) invalidates the token
// that was set, so a fresh one is fetched and set at once instead of
// librdkafka retrying the rejected one until it expires.
func (r *Refresher) Handle(ev kafka.Event) bool {
	switch e := ev.(type) {
	case kafka.OAuthBearerTokenRefresh:
		r.setNow()
		return true
	case kafka.Error:
		var rej *oauthbearer.RejectedError
		if errors.As(Explain(e), &rej) {
			r.mu.Lock()
			tok := r.last
			r.mu.Unlock()
			if !tok.IsZero() && oauthbearer.Invalidate(r.src, tok) {
				r.log.Warn("confluentkafka: broker rejected the token; setting a fresh one", "server", rej.Server, "status", rej.Status, "token", tok)
				r.setNow()
			}
		}
	}
	return false
}

// setNow wakes the refresher's goroutine without blocking.
func (r *Refresher) setNow() {
	select {
	case r.kick <- struct{}{}:
	default: // a set is already pending
	}
}

// Ready waits until a token has been set on the client for the first
// time. If ctx ends first it returns the last failure (or ctx's error if
// there was none yet), so a program can fail fast on a misconfigured
// identity instead of retrying forever.
func (r *Refresher) Ready(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
	case <-r.done:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.ready:
		return nil
	default:
	}
	if r.lastErr != nil {
		return r.lastErr
	}
	select {
	case <-r.done:
		return errors.New("confluentkafka: the refresher stopped before a token was set")
	default:
		return fmt.Errorf("confluentkafka: no token set yet: %w", ctx.Err())
	}
}

// Close stops the refresher and waits for its goroutine to return, so
// that it makes no further calls into the client. Call it before closing
// the client. It is idempotent.
func (r *Refresher) Close() {
	r.cancel()
	<-r.done
}

func (r *Refresher) run(ctx context.Context) {
	defer close(r.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.kick:
			timer.Stop()
		}
		if closed(r.client) {
			r.log.Debug("confluentkafka: the client is closed; the refresher stops")
			return
		}
		next, err := r.setToken(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			next = r.backoff(failures, err)
			r.fail(err)
			r.log.Warn("confluentkafka: could not set a token; retrying", "error", err, "retry_in", next, "failures", failures)
		} else {
			failures = 0
		}
		timer.Reset(next)
	}
}

// setToken fetches a token and sets it, returning when to set the next.
func (r *Refresher) setToken(ctx context.Context) (time.Duration, error) {
	fctx, cancel := context.WithTimeout(ctx, r.opts.FetchTimeout)
	tok, err := r.src.Token(fctx)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("confluentkafka: getting a token: %w", err)
	}
	if tok.Value == "" {
		return 0, errors.New("confluentkafka: the token source returned an empty token; check its configuration")
	}
	if tok.Expiry.IsZero() {
		return 0, errors.New("confluentkafka: the token source returned a token without an expiry, which librdkafka requires; " +
			"set Token.Expiry or wrap the source in oauthbearer.NewCache")
	}
	if _, cached := r.src.(*oauthbearer.Cache); !cached {
		// A Cache checked the value already; another source's value
		// goes to librdkafka, which frames it, only if it cannot
		// inject SASL fields.
		if err := oauthbearer.ValidateToken("the token source for confluentkafka", tok.Value); err != nil {
			return 0, fmt.Errorf("confluentkafka: %w", err)
		}
	}
	if err := oauthbearer.ValidateExtensions(tok.Extensions); err != nil {
		return 0, fmt.Errorf("confluentkafka: %w", err)
	}
	remaining := time.Until(tok.Expiry)
	if remaining <= 0 {
		return 0, fmt.Errorf("confluentkafka: the token source returned a token that expired at %s; check the clock and the source",
			tok.Expiry.UTC().Format(time.RFC3339))
	}
	if ctx.Err() != nil { // Close raced the fetch: do not touch the client.
		return 0, ctx.Err()
	}
	err = r.client.SetOAuthBearerToken(kafka.OAuthBearerToken{
		TokenValue: tok.Value, Expiration: tok.Expiry, Principal: tok.Principal, Extensions: tok.Extensions,
	})
	if err != nil {
		// librdkafka's message names the problem, never the token; the
		// usual cause is a client not configured for OAUTHBEARER.
		return 0, fmt.Errorf("confluentkafka: librdkafka refused the token (set sasl.mechanism=OAUTHBEARER and "+
			"leave sasl.oauthbearer.method unset): %w", err)
	}
	r.mu.Lock()
	r.lastErr = nil
	r.last = tok
	r.sets++
	if r.sets == 1 {
		close(r.ready)
	}
	r.mu.Unlock()
	next := max(time.Duration(float64(remaining)*setFraction), minInterval)
	r.log.Debug("confluentkafka: token set", "token", tok, "next_set_in", next)
	return next, nil
}

// fail records err and tells librdkafka, which keeps a still-valid token
// and raises ERR__AUTHENTICATION with the reason to the application.
func (r *Refresher) fail(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	if closed(r.client) {
		return
	}
	if ferr := r.client.SetOAuthBearerTokenFailure(err.Error()); ferr != nil {
		r.log.Warn("confluentkafka: librdkafka did not take the failure report", "error", ferr)
	}
}

// backoff is the delay before the next attempt after n consecutive
// failures: the cache's own (MinBackoff doubling up to MaxBackoff, equal
// jitter), never below a server's Retry-After.
func (r *Refresher) backoff(n int, err error) time.Duration {
	var retryAfter time.Duration
	if te, ok := errors.AsType[*oauthbearer.TransientError](err); ok {
		retryAfter = te.RetryAfter
	}
	return backoff.Delay(n, r.opts.MinBackoff, r.opts.MaxBackoff, retryAfter)
}

// closed reports whether c says it is closed.
func closed(c Client) bool {
	cc, ok := c.(interface{ IsClosed() bool })
	return ok && cc.IsClosed()
}

// Format prints the refresher's name only, for every verb: fmt cannot call
// the redacting methods of the token it holds in an unexported field, and
// reading its fields by reflection would race with the refresher's
// goroutine.
func (r *Refresher) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "confluentkafka.Refresher")
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (r *Refresher) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(r)), nil }
