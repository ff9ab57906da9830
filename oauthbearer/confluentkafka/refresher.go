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
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
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
	// RetryAfter. Defaults: the same as [oauthbearer.CacheOptions]'
	// MinBackoff and MaxBackoff. (librdkafka itself would ask again
	// after 10s.)
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// Logger receives a debug record per token set and a warning per
	// failure, never the token. Default: discard.
	Logger *slog.Logger

	// Logs, if set, is the client's librdkafka log channel, which the
	// refresher reads so that it learns of a broker's rejection of the
	// token even when the application reads no events (a producer that
	// only uses delivery reports): create the client with
	// "go.logs.channel.enable": true and pass its Logs(). The refresher
	// then invalidates the rejected token, reports the rejection from
	// [Refresher.Err] and [Refresher.Explain], and forwards every record
	// to Logger (librdkafka's errors as warnings, the rest at debug), so
	// nothing is lost. Default nil: rejections are learnt only through
	// [Refresher.Handle].
	Logs <-chan kafka.LogEvent

	// ReadyTimeout bounds the broker round trip (a metadata request) with
	// which [Refresher.Ready] checks that the token is accepted. Default
	// 10s; negative is an [*oauthbearer.OptionError], as for every
	// duration here.
	ReadyTimeout time.Duration
}

// defaultReadyTimeout is Options.ReadyTimeout's default.
const defaultReadyTimeout = 10 * time.Second

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
	opts   Options // defaults filled in; Logger is never nil

	cancel   context.CancelFunc
	kick     chan struct{}
	done     chan struct{}
	logsDone chan struct{} // closed when readLogs returns; nil without Options.Logs

	mu      sync.Mutex
	last    oauthbearer.Token // the token last set, for invalidation on rejection
	ready   chan struct{}     // closed once a token has been set
	lastErr error             // the last failure, nil after a success
	sets    int
	// rejected is the broker's most recent rejection of a token this
	// refresher set, cleared when a round trip succeeds.
	rejected error
	// setTokens are the last tokens set, removed from every text the
	// refresher passes on (see scrub).
	setTokens []string
}

// MetadataClient is the method [Refresher.Ready] uses for its round trip
// with the broker; *kafka.Producer, *kafka.Consumer and *kafka.AdminClient
// have it.
type MetadataClient interface {
	GetMetadata(topic *string, allTopics bool, timeoutMs int) (*kafka.Metadata, error)
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
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	const options = "confluentkafka.Options"
	var err error
	if o.FetchTimeout, err = cacheopts.FetchTimeout(options, o.FetchTimeout); err != nil {
		return nil, err
	}
	// The refresher retries as the cache does, so its backoffs follow
	// the cache's one rule for them.
	if o.MinBackoff, o.MaxBackoff, err = cacheopts.Backoff(options, o.MinBackoff, o.MaxBackoff); err != nil {
		return nil, err
	}
	if o.ReadyTimeout, err = cacheopts.Duration(options, "ReadyTimeout", o.ReadyTimeout, defaultReadyTimeout); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Refresher{
		client: client, src: src, opts: o,
		cancel: cancel,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	go r.run(ctx)
	if o.Logs != nil {
		r.logsDone = make(chan struct{})
		go r.readLogs(ctx, o.Logs)
	}
	return r, nil
}

// readLogs watches librdkafka's log for the broker's rejection of a token
// (see Options.Logs) and forwards every record to the logger.
func (r *Refresher) readLogs(ctx context.Context, logs <-chan kafka.LogEvent) {
	defer close(r.logsDone)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-logs:
			if !ok {
				return
			}
			sent := r.sent()
			msg, tag, name := scrub(ev.Message, sent...), scrub(ev.Tag, sent...), scrub(ev.Name, sent...)
			if ev.Level <= 4 {
				r.opts.Logger.Warn("librdkafka: "+msg, "facility", tag, "client", name)
			} else {
				r.opts.Logger.Debug("librdkafka: "+msg, "facility", tag, "client", name)
			}
			if rej := explainMessage(ev.Message, sent...); rej != nil {
				r.rejectedBy(rej)
			}
		}
	}
}

// rejectedBy records a broker's rejection and replaces the rejected token.
func (r *Refresher) rejectedBy(rej error) {
	r.mu.Lock()
	r.rejected = rej
	tok := r.last
	r.mu.Unlock()
	status := "other"
	if re, ok := errors.AsType[*oauthbearer.RejectedError](rej); ok {
		status = re.Status
	}
	oauthbearer.ReportRejection(r.src, "confluentkafka", status)
	if !tok.IsZero() && oauthbearer.Invalidate(r.src, tok) {
		r.opts.Logger.Warn("confluentkafka: the broker rejected the token; setting a fresh one", "error", rej, "token", tok)
		r.setNow()
	}
}

// Err returns the most recent problem with the client's authentication:
// the broker's rejection of the token (an [*oauthbearer.RejectedError],
// learnt through [Options.Logs] or [Refresher.Handle]), or the token
// source's failure, or nil when neither happened since the last success.
func (r *Refresher) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rejected != nil {
		return r.rejected
	}
	return r.lastErr
}

// Explain adds the cause to an error librdkafka reported to the
// application, such as a delivery report's "Local: Message timed out"
// (a kafka.Error with ErrMsgTimedOut, ErrAuthentication, ErrTransport,
// ErrAllBrokersDown or ErrTimedOut): when the broker rejected the token
// or the source failed since the last success, the result wraps both err
// and that cause (an [*oauthbearer.RejectedError] is reachable with
// errors.As). A rejection in err itself is explained as by [Explain].
// Other errors, and errors while no cause is known, are returned unchanged.
//
// For example, with a delivery report m (a *kafka.Message):
// return r.Explain(m.TopicPartition.Error).
func (r *Refresher) Explain(err error) error {
	if x := explain(err, r.sent()...); x != err {
		return x
	}
	var ke kafka.Error
	if err == nil || !errors.As(err, &ke) {
		return err
	}
	switch ke.Code() {
	case kafka.ErrMsgTimedOut, kafka.ErrAuthentication, kafka.ErrTransport, kafka.ErrAllBrokersDown, kafka.ErrTimedOut:
	default:
		return err
	}
	cause := r.Err()
	if cause == nil {
		return err
	}
	return fmt.Errorf("confluentkafka: %w; the cause: %w", scrubErr(err, r.sent()...), cause)
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
		if errors.As(explain(e, r.sent()...), &rej) {
			r.rejectedBy(rej)
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

// Ready waits until a token has been set on the client and the broker
// has accepted it: once a token is set, it makes a metadata request
// (GetMetadata, bounded by [Options.ReadyTimeout] and ctx), which needs an
// authenticated connection, when the client has that method (all
// confluent-kafka-go clients do). It returns nil after a successful round
// trip. Otherwise it returns the cause it knows: the broker's rejection
// of the token (an [*oauthbearer.RejectedError], learnt through
// [Options.Logs] or [Refresher.Handle]), or the token source's failure,
// which it returns at once when it is not transient (an unreachable
// identity provider, bad configuration) rather than waiting for ctx to
// end; without either, the round trip's or ctx's error. A program can so
// fail fast on a misconfigured identity instead of retrying forever.
func (r *Refresher) Ready(ctx context.Context) error {
	for {
		select {
		case <-r.ready:
			return r.roundTrip(ctx)
		case <-ctx.Done():
		case <-r.done:
		case <-time.After(100 * time.Millisecond):
			// Poll for a permanent failure: it will not heal by waiting.
			r.mu.Lock()
			err := r.lastErr
			r.mu.Unlock()
			if err != nil && !oauthbearer.IsTransient(err) {
				return err
			}
			continue
		}
		break
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.ready:
		return r.lastErrLockedOr(ctx.Err())
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

func (r *Refresher) lastErrLockedOr(err error) error {
	if r.rejected != nil {
		return r.rejected
	}
	if r.lastErr != nil {
		return r.lastErr
	}
	return err
}

// readySlice bounds each metadata request of Ready's round trip, so that
// a rejection learnt meanwhile ends the wait.
const readySlice = 250 * time.Millisecond

// roundTrip checks, with a metadata request, that the broker accepts the
// token; see Ready.
func (r *Refresher) roundTrip(ctx context.Context) error {
	mc, ok := r.client.(MetadataClient)
	if !ok {
		return nil
	}
	timeout := r.opts.ReadyTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if timeout <= 0 {
		return fmt.Errorf("confluentkafka: a token is set, but no time is left to check that the broker accepts it: %w", ctx.Err())
	}
	// librdkafka's metadata request waits out its whole timeout when every
	// authentication fails, though the rejection may be known (from the
	// log or Handle) within milliseconds; asking in short slices lets
	// Ready return as soon as one is.
	deadline := time.Now().Add(timeout)
	var err error
	for {
		slice := min(time.Until(deadline), readySlice)
		_, err = mc.GetMetadata(nil, false, max(int(slice.Milliseconds()), 1))
		r.mu.Lock()
		known := r.rejected != nil
		r.mu.Unlock()
		if err == nil || known || time.Until(deadline) <= 0 || ctx.Err() != nil {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.rejected = nil
		return nil
	}
	err = scrubErr(err, r.setTokens...)
	if cause := r.lastErrLockedOr(nil); cause != nil {
		return fmt.Errorf("confluentkafka: a token is set, but the broker round trip failed (%w): %w", err, cause)
	}
	return fmt.Errorf("confluentkafka: a token is set, but the broker round trip (a metadata request) failed: %w; "+
		"if the broker rejected the token, pass the client's Logs() as Options.Logs (with go.logs.channel.enable) to see why; %s", err, troubleshooting.See("confluent-kafka-go-message-timed-out"))
}

// Close stops the refresher and waits for its goroutine to return, so
// that it makes no further calls into the client. Call it before closing
// the client. It is idempotent.
func (r *Refresher) Close() {
	r.cancel()
	<-r.done
	if r.logsDone != nil {
		<-r.logsDone
	}
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
			r.opts.Logger.Debug("confluentkafka: the client is closed; the refresher stops")
			return
		}
		next, err := r.setToken(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			err = scrubErr(err, r.sent()...)
			failures++
			next = r.backoff(failures, err)
			r.fail(err)
			r.opts.Logger.Warn("confluentkafka: could not set a token; retrying", "error", err, "retry_in", next, "failures", failures)
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
	// librdkafka frames the value: it must not inject SASL fields.
	if err := saslmsg.CheckToken("confluentkafka", r.src, tok); err != nil {
		return 0, err
	}
	if tok.Expiry.IsZero() {
		return 0, errors.New("confluentkafka: the token source returned a token without an expiry, which librdkafka requires; " +
			"set Token.Expiry or wrap the source in oauthbearer.NewCache")
	}
	remaining := time.Until(tok.Expiry)
	if remaining <= 0 {
		return 0, fmt.Errorf("confluentkafka: the token source returned a token that expired at %s; check the clock and the source",
			tok.Expiry.UTC().Format(time.RFC3339))
	}
	if ctx.Err() != nil { // Close raced the fetch: do not touch the client.
		return 0, ctx.Err()
	}
	// Recorded before librdkafka has it, so that whatever it logs with
	// the token is scrubbed of it.
	r.mu.Lock()
	r.rememberLocked(tok.Value)
	r.mu.Unlock()
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
	r.opts.Logger.Debug("confluentkafka: token set", "token", tok, "next_set_in", next)
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
		r.opts.Logger.Warn("confluentkafka: librdkafka did not take the failure report", "error", scrubErr(ferr, r.sent()...))
	}
}

// backoff is the delay before the next attempt after n consecutive
// failures: the cache's own (MinBackoff doubling up to MaxBackoff, spread
// above a server's Retry-After; see internal/backoff).
func (r *Refresher) backoff(n int, err error) time.Duration {
	var retryAfter time.Duration
	if te, ok := errors.AsType[*oauthbearer.TransientError](err); ok {
		retryAfter = te.RetryAfter
	}
	return backoff.Delay(nil, n, r.opts.MinBackoff, r.opts.MaxBackoff, retryAfter)
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
