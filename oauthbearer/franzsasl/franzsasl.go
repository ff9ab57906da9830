// Package franzsasl connects a [oauthbearer.TokenSource] to franz-go as a
// SASL/OAUTHBEARER mechanism:
//
//	src, _ := azure.NewManagedIdentity(...) // any oauthbearer.TokenSource
//	cl, err := kgo.NewClient(
//		kgo.SeedBrokers("broker:9093"),
//		kgo.DialTLS(),
//		kgo.SASL(franzsasl.Mechanism(src, nil)),
//	)
//
// franz-go asks for a token on every new connection (up to five per broker)
// and on every re-authentication, with a context that has no deadline; the
// mechanism bounds each call with [Options.Timeout]. Unlike franz-go's
// built-in sasl/oauth, a broker's rejection is reported as an
// [*oauthbearer.RejectedError] that quotes the broker's status and says what
// usually causes it, and the rejected token is invalidated so the next
// connection fetches a fresh one.
package franzsasl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Options tunes the mechanism. A nil *Options means the defaults.
type Options struct {
	// Timeout bounds each token fetch; franz-go's own context has no
	// deadline. Default 15s.
	Timeout time.Duration
	// AuthorizationID is the optional SASL authorization identity (the
	// "a=" field of the GS2 header). Kafka brokers ignore it; default empty.
	AuthorizationID string
	// Logger receives a warning when a broker rejects a token. Default:
	// discard.
	Logger *slog.Logger
}

// Mechanism returns an OAUTHBEARER sasl.Mechanism that takes each
// session's token from src.
func Mechanism(src oauthbearer.TokenSource, opts *Options) sasl.Mechanism {
	m := &mechanism{src: src, timeout: 15 * time.Second, log: slog.New(slog.DiscardHandler)}
	if opts != nil {
		if opts.Timeout > 0 {
			m.timeout = opts.Timeout
		}
		m.authzid = opts.AuthorizationID
		if opts.Logger != nil {
			m.log = opts.Logger
		}
	}
	return m
}

type mechanism struct {
	src     oauthbearer.TokenSource
	timeout time.Duration
	authzid string
	log     *slog.Logger
}

func (*mechanism) Name() string { return "OAUTHBEARER" }

func (m *mechanism) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	tok, err := m.src.Token(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("franzsasl: getting a token for %s: %w", host, err)
	}
	if tok.Value == "" {
		return nil, nil, fmt.Errorf("franzsasl: the token source returned an empty token for %s", host)
	}
	msg, err := saslmsg.ClientFirst(tok, m.authzid)
	if err != nil {
		return nil, nil, fmt.Errorf("franzsasl: %w", err)
	}
	return &session{m: m, host: host, tok: tok}, msg, nil
}

type session struct {
	m    *mechanism
	host string
	tok  oauthbearer.Token
}

// Challenge handles the broker's reply to the initial response: empty
// means success; anything else is an RFC 7628 error challenge.
func (s *session) Challenge(resp []byte) (bool, []byte, error) {
	if len(resp) == 0 {
		return true, nil, nil
	}
	rej := saslmsg.ParseChallenge("broker "+s.host, resp)
	oauthbearer.Invalidate(s.m.src, s.tok)
	s.m.log.Warn("franzsasl: broker rejected the token", "broker", s.host, "status", rej.Status, "expiry", s.tok.Expiry)
	return false, nil, rej
}

// Format prints the mechanism's name only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (m *mechanism) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "franzsasl.Mechanism(OAUTHBEARER)")
}
