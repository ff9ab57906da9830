package saslmsg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Client is the client side of an OAUTHBEARER exchange, shared by the
// adapters whose Kafka clients drive SASL themselves (franz-go,
// kafka-go): each adapter only maps its client's interface onto it.
type Client struct {
	pkg     string // names the adapter in errors and logs
	src     oauthbearer.TokenSource
	timeout time.Duration
	authzid string // escaped by EscapeAuthzID
	log     *slog.Logger
}

// NewClient returns a Client for the adapter named pkg. timeout is the
// adapter's Options.FetchTimeout, resolved by
// [cacheopts.FetchTimeout] (zero: the default; negative: an
// *oauthbearer.OptionError), since Kafka clients call mechanisms with
// contexts that have no deadline. authzid is escaped here, once: one
// Kafka refuses is an error now rather than on every connection. A nil
// logger discards. A nil src is an error naming pkg's Mechanism.
func NewClient(pkg string, src oauthbearer.TokenSource, timeout time.Duration, authzid string, log *slog.Logger) (*Client, error) {
	if src == nil {
		return nil, fmt.Errorf("%s: Mechanism: the token source is nil; pass the source of the workload's tokens, such as an *oauthbearer.Cache", pkg)
	}
	timeout, err := cacheopts.FetchTimeout(pkg+".Options", timeout)
	if err != nil {
		return nil, err
	}
	authzid, err = EscapeAuthzID(authzid)
	if err != nil {
		return nil, fmt.Errorf("%s: Options.AuthorizationID: %w", pkg, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{pkg: pkg, src: src, timeout: timeout, authzid: authzid, log: log}, nil
}

// Options are the fields of the franzsasl and kafkagosasl adapters'
// Options, in the same order with the same types: each adapter converts
// its *Options to *Options, so the compiler keeps the three alike. Never
// add, remove or reorder a field: an adapter released against an earlier
// root module would no longer compile (a new field needs a new type).
type Options struct {
	FetchTimeout    time.Duration
	AuthorizationID string
	Logger          *slog.Logger
}

// New is [NewClient] with an adapter's options; nil opts means the
// defaults.
func New(pkg string, src oauthbearer.TokenSource, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	return NewClient(pkg, src, o.FetchTimeout, o.AuthorizationID, o.Logger)
}

// Start fetches a token for server (such as "broker host:9092"), bounded
// by the client's timeout, and returns the exchange with its client first
// message.
func (c *Client) Start(parent context.Context, server string) (*Exchange, []byte, error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	tok, err := c.src.Token(ctx)
	if err != nil {
		err = fmt.Errorf("%s: getting a token for %s: %w", c.pkg, server, err)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			// This adapter's own timeout ended the wait: see NotRetried.
			return nil, nil, &NotRetried{Err: err}
		}
		return nil, nil, err
	}
	if err := CheckToken(c.pkg, c.src, tok); err != nil {
		return nil, nil, err
	}
	return &Exchange{c: c, server: server, tok: tok}, ClientFirst(tok, c.authzid), nil
}

// Exchange is one authentication in progress.
type Exchange struct {
	c      *Client
	server string
	tok    oauthbearer.Token
}

// Reply handles the server's answer to the client first message: empty
// means success; anything else is an RFC 7628 error challenge such as
// {"status":"invalid_token"}, returned as an *oauthbearer.RejectedError
// after the rejected token is invalidated so the next connection fetches
// a fresh one. The exchange is aborted there rather than acknowledged
// with %x01, because the broker would then answer only with a generic
// SASL_AUTHENTICATION_FAILED that hides the status.
func (e *Exchange) Reply(resp []byte) (done bool, err error) {
	if len(resp) == 0 {
		return true, nil
	}
	rej := ParseChallenge(e.server, resp, e.tok.Value)
	oauthbearer.ReportRejection(e.c.src, e.c.pkg, rej.Status)
	oauthbearer.Invalidate(e.c.src, e.tok)
	e.c.log.Warn(e.c.pkg+": broker rejected the token", "server", e.server, "status", rej.Status, "expiry", e.tok.Expiry)
	return false, rej
}

// Format prints the adapter's name only: the client holds the token
// source, whose credentials fmt would otherwise print by reflection.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.pkg+" OAUTHBEARER client") }

// Format prints the server only: the exchange holds the token.
func (e *Exchange) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, e.c.pkg+" OAUTHBEARER exchange with "+e.server)
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (c *Client) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(c)), nil }

// NotRetried marks a token wait that used up the adapter's whole
// FetchTimeout. Its Temporary method reports false, which franz-go checks
// (through errors.As, before the context.DeadlineExceeded it wraps) to
// decide whether to retry a connection: a retry would wait once more and
// then fail the application's request with franz-go's own "records have
// timed out" or the caller's "context deadline exceeded", which say
// nothing of the cause this error carries (the source's last failure, or
// what is still running). The request fails with the cause instead; the
// next one tries again, while the source's fetch keeps running.
type NotRetried struct{ Err error }

// Error returns the wrapped error's message.
func (e *NotRetried) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *NotRetried) Unwrap() error { return e.Err }

// Temporary reports false: see the type's documentation.
func (e *NotRetried) Temporary() bool { return false }
