// Package saramasasl connects a [oauthbearer.TokenSource] to IBM/sarama as
// a sarama.AccessTokenProvider ([NewTokenProvider]); [Configure] sets a
// sarama config's SASL section to use one.
//
// sarama offers no hook through which a token provider learns that the
// broker rejected its token: sarama handles the broker's reply itself and
// returns a rejection to the application as a bare
// sarama.ErrSASLAuthenticationFailed ("invalid credentials"). So create
// the client with [NewClient] instead of sarama.NewClient: it returns the
// broker's rejection as an [*oauthbearer.RejectedError] that says what
// usually causes it, and invalidates the rejected token. Build producers
// and consumers on that client (sarama.NewSyncProducerFromClient,
// sarama.NewConsumerGroupFromClient ...). Errors sarama returns later
// (from a producer, on a reconnection) still need [TokenProvider.Explain].
// The example of [Configure] shows the whole setup.
//
// sarama calls Token on every broker connection and re-authentication,
// without a context; the provider bounds each call with
// [Options.FetchTimeout], and a token wait that ends there carries the
// source's most recent failure (or what is still running).
package saramasasl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Options tunes the provider. A nil *Options means the defaults.
type Options struct {
	// FetchTimeout bounds each token fetch; sarama's Token has no
	// context. Default [oauthbearer.DefaultFetchTimeout] (30s).
	FetchTimeout time.Duration
}

// TokenProvider is a sarama.AccessTokenProvider backed by a token source.
type TokenProvider struct {
	src     oauthbearer.TokenSource
	timeout time.Duration
	// last is the token handed out most recently, for Explain to
	// invalidate: sarama reports a rejection only as an error returned
	// to the application, never to the provider.
	last atomic.Pointer[oauthbearer.Token]
}

var _ sarama.AccessTokenProvider = (*TokenProvider)(nil)

// NewTokenProvider returns a provider that takes tokens from src. A nil
// src is an error.
func NewTokenProvider(src oauthbearer.TokenSource, opts *Options) (*TokenProvider, error) {
	if src == nil {
		return nil, errors.New("saramasasl: NewTokenProvider: the token source is nil; pass the source of the workload's tokens, such as an *oauthbearer.Cache")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout, err := cacheopts.FetchTimeout("saramasasl.Options", o.FetchTimeout)
	if err != nil {
		return nil, err
	}
	return &TokenProvider{src: src, timeout: timeout}, nil
}

// Token returns the current token and its validated SASL extensions.
func (p *TokenProvider) Token() (*sarama.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	tok, err := p.src.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("saramasasl: getting a token: %w", err)
	}
	// sarama frames the value as is: it must not inject fields.
	if err := saslmsg.CheckToken("saramasasl", p.src, tok); err != nil {
		return nil, err
	}
	p.last.Store(&tok)
	return &sarama.AccessToken{Token: tok.Value, Extensions: tok.Extensions}, nil
}

// Explain is the package-level [Explain], and in addition, when err is a
// SASL authentication failure, invalidates (through
// [oauthbearer.Invalidator]) the token this provider handed out most
// recently, so that the next connection fetches a fresh one instead of
// presenting the rejected token again. sarama does not tell the provider
// which token the broker refused; the most recent one is the one a
// rejection almost always concerns, and invalidating a token that was
// already replaced does nothing.
func (p *TokenProvider) Explain(err error) error {
	err = Explain(err)
	var rej *oauthbearer.RejectedError
	if errors.As(err, &rej) {
		if tok := p.last.Load(); tok != nil {
			oauthbearer.ReportRejection(p.src, "saramasasl", rej.Status)
			oauthbearer.Invalidate(p.src, *tok)
		}
	}
	return err
}

// Explain turns sarama's SASL authentication failure into an
// [*oauthbearer.RejectedError] that quotes the broker's message and says
// what usually causes it; other errors are returned unchanged. sarama does
// not surface the broker's RFC 7628 challenge, so the status is taken from
// the broker's error message.
func Explain(err error) error {
	if err == nil || !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		return err
	}
	status := "invalid_token"
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"JWT_PROCESSING_FAILED", "JWT_HEADER_KID_LOOKUP_FAILED", "invalid_request", "insufficient_scope"} {
		if strings.Contains(msg, strings.ToLower(s)) {
			status = s
			break
		}
	}
	return &oauthbearer.RejectedError{Server: "broker", Status: status, Err: err}
}

// Format prints the type only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (p *TokenProvider) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "saramasasl.TokenProvider")
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (p *TokenProvider) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(p)), nil }

// Configure sets cfg's SASL section for SASL/OAUTHBEARER with a
// [TokenProvider] over src (Enable, Mechanism, TokenProvider; Handshake
// stays on, as brokers need it), and returns the provider. TLS (cfg.Net.TLS)
// is left to the caller. A nil cfg or src is an error.
func Configure(cfg *sarama.Config, src oauthbearer.TokenSource, opts *Options) (*TokenProvider, error) {
	if cfg == nil {
		return nil, errors.New("saramasasl: Configure: the sarama config is nil; pass sarama.NewConfig()")
	}
	p, err := NewTokenProvider(src, opts)
	if err != nil {
		return nil, err
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = p
	cfg.Net.SASL.Handshake = true
	return p, nil
}

// NewClient is sarama.NewClient, with a broker's rejection of the token
// returned as an [*oauthbearer.RejectedError] (through the config's
// [TokenProvider.Explain] when it is one of this package's providers, so
// that the rejected token is invalidated too; through [Explain]
// otherwise). Other errors are returned as sarama returned them.
func NewClient(addrs []string, cfg *sarama.Config) (sarama.Client, error) {
	c, err := sarama.NewClient(addrs, cfg)
	if err == nil {
		return c, nil
	}
	if cfg != nil {
		if p, ok := cfg.Net.SASL.TokenProvider.(*TokenProvider); ok {
			return nil, p.Explain(err)
		}
	}
	return nil, Explain(err)
}
