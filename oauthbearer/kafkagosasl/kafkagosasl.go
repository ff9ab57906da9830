// Package kafkagosasl connects a [oauthbearer.TokenSource] to
// segmentio/kafka-go as a SASL/OAUTHBEARER mechanism, which kafka-go does
// not have built in:
//
// see the example of [Mechanism] (a Writer and a Reader).
//
// kafka-go asks for a token on every new connection (it does not
// re-authenticate connections, KIP-368, so a broker closes a connection
// when its token expires and kafka-go dials a new one). Each fetch is
// bounded by [Options.FetchTimeout] as well as by kafka-go's context. The client
// first message is RFC 7628's, with the token's SASL extensions (such as
// Confluent Cloud's logicalCluster and identityPoolId) validated first. A
// broker's rejection is reported as an [*oauthbearer.RejectedError] that
// quotes the broker's status and says what usually causes it, and the
// rejected token is invalidated so the next connection fetches a fresh one.
package kafkagosasl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go/sasl"

	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Options tunes the mechanism. A nil *Options means the defaults. No field
// has an environment-variable fallback.
type Options struct {
	// FetchTimeout bounds each token fetch, in addition to any deadline on
	// kafka-go's context (a kafka.Transport's dial context has none of
	// its own). Default [oauthbearer.DefaultFetchTimeout] (30s).
	FetchTimeout time.Duration
	// AuthorizationID is the optional SASL authorization identity (the
	// "a=" field of the GS2 header). Kafka brokers ignore it; default empty.
	AuthorizationID string
	// Logger receives a warning when a broker rejects a token. Default:
	// discard.
	Logger *slog.Logger
}

// Mechanism returns an OAUTHBEARER sasl.Mechanism for kafka.Dialer's
// SASLMechanism and kafka.Transport's SASL that takes each connection's
// token from src. It is safe for concurrent use, as kafka-go requires.
// A nil src is an error.
func Mechanism(src oauthbearer.TokenSource, opts *Options) (sasl.Mechanism, error) {
	c, err := saslmsg.New("kafkagosasl", src, (*saslmsg.Options)(opts))
	if err != nil {
		return nil, err
	}
	return &mechanism{c}, nil
}

type mechanism struct{ c *saslmsg.Client }

// Name returns "OAUTHBEARER", the mechanism kafka-go puts in SaslHandshake.
func (*mechanism) Name() string { return "OAUTHBEARER" }

// Start fetches a token and returns the RFC 7628 client first message.
func (m *mechanism) Start(ctx context.Context) (sasl.StateMachine, []byte, error) {
	ex, msg, err := m.c.Start(ctx, brokerName(ctx))
	if err != nil {
		return nil, nil, err
	}
	return session{ex}, msg, nil
}

// brokerName names the broker for messages: kafka-go puts its address in
// the context with sasl.WithMetadata.
func brokerName(ctx context.Context) string {
	if md := sasl.MetadataFromContext(ctx); md != nil && md.Host != "" {
		return "broker " + net.JoinHostPort(md.Host, strconv.Itoa(md.Port))
	}
	return "broker"
}

type session struct{ ex *saslmsg.Exchange }

// Next handles the broker's reply to the client first message: empty
// means success; anything else is an RFC 7628 error challenge, returned
// as an *oauthbearer.RejectedError (the rejected token is invalidated).
func (s session) Next(_ context.Context, challenge []byte) (bool, []byte, error) {
	done, err := s.ex.Reply(challenge)
	return done, nil, err
}

// Format prints the mechanism's name only, for every verb, so no verb can
// reach the wrapped source's credentials or tokens.
func (m *mechanism) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "kafkagosasl.Mechanism(OAUTHBEARER)")
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (m *mechanism) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(m)), nil }
