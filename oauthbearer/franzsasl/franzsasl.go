// Package franzsasl connects a [oauthbearer.TokenSource] to franz-go as a
// SASL/OAUTHBEARER mechanism:
//
// see the example of [Mechanism].
//
// franz-go asks for a token on every new connection (up to five per broker)
// and on every re-authentication, with a context that has no deadline; the
// mechanism bounds each call with [Options.FetchTimeout]. Unlike franz-go's
// built-in sasl/oauth, a broker's rejection is reported as an
// [*oauthbearer.RejectedError] that quotes the broker's status and says what
// usually causes it, and the rejected token is invalidated so the next
// connection fetches a fresh one.
//
// A token wait that uses up FetchTimeout fails the request with the cause
// (the source's last failure, or what is still running) rather than being
// retried by franz-go, whose own error would then say only "context
// deadline exceeded" or "records have timed out". Ping right after
// NewClient returns it at once; a produce's record error carries it as
// "last err" once kgo.RecordDeliveryTimeout ends (franz-go keeps records
// until then, unboundedly by default).
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
	// FetchTimeout bounds each token fetch; franz-go's own context has no
	// deadline. Default [oauthbearer.DefaultFetchTimeout] (30s).
	FetchTimeout time.Duration
	// AuthorizationID is the optional SASL authorization identity (the
	// "a=" field of the GS2 header). Kafka brokers ignore it; default empty.
	AuthorizationID string
	// Logger receives a warning when a broker rejects a token. Default:
	// discard.
	Logger *slog.Logger
}

// Mechanism returns an OAUTHBEARER sasl.Mechanism that takes each
// session's token from src. A nil src is an error.
func Mechanism(src oauthbearer.TokenSource, opts *Options) (sasl.Mechanism, error) {
	c, err := saslmsg.New("franzsasl", src, (*saslmsg.Options)(opts))
	if err != nil {
		return nil, err
	}
	return &mechanism{c}, nil
}

type mechanism struct{ c *saslmsg.Client }

func (*mechanism) Name() string { return "OAUTHBEARER" }

func (m *mechanism) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	ex, msg, err := m.c.Start(ctx, "broker "+host)
	if err != nil {
		return nil, nil, err
	}
	return session{ex}, msg, nil
}

type session struct{ ex *saslmsg.Exchange }

// Challenge handles the broker's reply to the initial response: empty
// means success; anything else is an RFC 7628 error challenge, returned
// as an *oauthbearer.RejectedError (the rejected token is invalidated).
func (s session) Challenge(resp []byte) (bool, []byte, error) {
	done, err := s.ex.Reply(resp)
	return done, nil, err
}

// Format prints the mechanism's name only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (m *mechanism) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "franzsasl.Mechanism(OAUTHBEARER)")
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (m *mechanism) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(m)), nil }
