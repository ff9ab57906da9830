// Package kafkagosasl connects a [oauthbearer.TokenSource] to
// segmentio/kafka-go as a SASL/OAUTHBEARER mechanism, which kafka-go does
// not have built in:
//
//	mech := kafkagosasl.Mechanism(src, nil) // src: any oauthbearer.TokenSource
//	w := &kafka.Writer{
//		Addr:      kafka.TCP("broker:9093"),
//		Topic:     "orders",
//		Transport: &kafka.Transport{SASL: mech, TLS: &tls.Config{}},
//	}
//	r := kafka.NewReader(kafka.ReaderConfig{
//		Brokers: []string{"broker:9093"},
//		Topic:   "orders",
//		Dialer:  &kafka.Dialer{SASLMechanism: mech, TLS: &tls.Config{}, Timeout: 10 * time.Second},
//	})
//
// kafka-go asks for a token on every new connection (it does not
// re-authenticate connections, KIP-368, so a broker closes a connection
// when its token expires and kafka-go dials a new one). Each fetch is
// bounded by [Options.Timeout] as well as by kafka-go's context. The client
// first message is RFC 7628's, with the token's SASL extensions (such as
// Confluent Cloud's logicalCluster and identityPoolId) validated first. A
// broker's rejection is reported as an [*oauthbearer.RejectedError] that
// quotes the broker's status and says what usually causes it, and the
// rejected token is invalidated so the next connection fetches a fresh one.
package kafkagosasl

import (
	"context"
	"fmt"
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
	// Timeout bounds each token fetch, in addition to any deadline on
	// kafka-go's context (a kafka.Transport's dial context has none of
	// its own). Default 15s.
	Timeout time.Duration
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

// Name returns "OAUTHBEARER", the mechanism kafka-go puts in SaslHandshake.
func (*mechanism) Name() string { return "OAUTHBEARER" }

// Start fetches a token and returns the RFC 7628 client first message.
func (m *mechanism) Start(ctx context.Context) (sasl.StateMachine, []byte, error) {
	host := brokerName(ctx)
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	tok, err := m.src.Token(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("kafkagosasl: getting a token for %s: %w", host, err)
	}
	if tok.Value == "" {
		return nil, nil, fmt.Errorf("kafkagosasl: the token source returned an empty token for %s; check the source's configuration", host)
	}
	msg, err := saslmsg.ClientFirst(tok, m.authzid)
	if err != nil {
		return nil, nil, fmt.Errorf("kafkagosasl: %w", err)
	}
	return &session{m: m, host: host, tok: tok}, msg, nil
}

// brokerName names the broker for messages: kafka-go puts its address in
// the context with sasl.WithMetadata.
func brokerName(ctx context.Context) string {
	if md := sasl.MetadataFromContext(ctx); md != nil && md.Host != "" {
		return "broker " + net.JoinHostPort(md.Host, strconv.Itoa(md.Port))
	}
	return "broker"
}

type session struct {
	m    *mechanism
	host string
	tok  oauthbearer.Token
}

// Next handles the broker's reply to the client first message: empty
// means success; anything else is an RFC 7628 error challenge such as
// {"status":"invalid_token"}. The exchange is aborted there rather than
// acknowledged with %x01, because the broker would only answer with a
// generic SASL_AUTHENTICATION_FAILED that hides the status.
func (s *session) Next(_ context.Context, challenge []byte) (bool, []byte, error) {
	if len(challenge) == 0 {
		return true, nil, nil
	}
	rej := saslmsg.ParseChallenge(s.host, challenge)
	oauthbearer.Invalidate(s.m.src, s.tok)
	s.m.log.Warn("kafkagosasl: broker rejected the token", "broker", s.host, "status", rej.Status, "expiry", s.tok.Expiry)
	return false, nil, rej
}
