//go:build cgo

package confluentkafka

import (
	"errors"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// saslError is what librdkafka puts between the broker's name and the
// broker's RFC 7628 error challenge in an ERR__AUTHENTICATION error.
const saslError = ": SASL authentication error: "

// Explain turns librdkafka's report of a broker rejecting the token (a
// kafka.Error with code ErrAuthentication and a message such as
// `sasl_ssl://b1:9093/1: SASL authentication error:
// {"status":"invalid_token"} (after 3ms in state AUTH_REQ)`), as delivered
// by Poll or the Events channel, into an [*oauthbearer.RejectedError] that
// names the broker, quotes the status and says what usually causes it.
// Other errors, including librdkafka's report that this package could not
// get a token ("Failed to acquire SASL OAUTHBEARER token: ..."), are
// returned unchanged.
//
// The broker's name and status are scrubbed (see scrub) of anything
// token- or key-shaped and of control characters: a broker or a proxy in
// front of it may echo the token. [Refresher.Explain] also removes the
// tokens the refresher set.
func Explain(err error) error { return explain(err) }

// explain is Explain, removing the tokens in sent from what it quotes.
func explain(err error, sent ...string) error {
	var ke kafka.Error
	if err == nil || !errors.As(err, &ke) || ke.Code() != kafka.ErrAuthentication {
		return err
	}
	if rej := explainMessage(ke.Error(), sent...); rej != nil {
		return rej
	}
	return err
}

// explainMessage parses librdkafka's text of a broker's rejection (the
// ERR__AUTHENTICATION error's, or the same line in librdkafka's log) into
// an *oauthbearer.RejectedError, or returns nil. The server's name and
// the challenge's fields are scrubbed of sent and of token-shaped text.
func explainMessage(msg string, sent ...string) error {
	i := strings.Index(msg, saslError)
	if i < 0 {
		return nil
	}
	server, rest := msg[:i], msg[i+len(saslError):]
	// The challenge is the JSON object up to librdkafka's " (after ..."
	// suffix; a non-JSON challenge is quoted as far as that suffix.
	if j := strings.LastIndex(rest, " (after "); j >= 0 {
		rest = rest[:j]
	}
	if !strings.HasPrefix(rest, "{") {
		return nil
	}
	return saslmsg.ParseChallenge("broker "+srvtext.Field(server, sent...), []byte(rest), sent...)
}
