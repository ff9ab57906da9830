package saslmsg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/brokerstatus"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// maxRejectionMessage bounds what a broker's challenge can make an error
// message grow to: the message ends up in logs and alerts.
const maxRejectionMessage = 2048

// FuzzParseChallenge feeds arbitrary broker challenges (RFC 7628 JSON or
// anything else a broker or a proxy may send) through ParseChallenge and
// the RejectedError it builds, and checks that the result is a
// single-line, bounded, permanent error that keeps the server's status
// when it is a short JSON string.
func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`{"status":"invalid_token"}`,
		`{"status":"invalid_token","scope":"kafka","openid-configuration":"https://idp.example/.well-known/openid-configuration"}`,
		`{"status":"JWT_PROCESSING_FAILED"}`,
		`{"status":"JWT_HEADER_KID_LOOKUP_FAILED"}`,
		`{"status":""}`,
		`{"status":"a\nb\u0000c\u2028"}`,
		`{"status":1}`,
		`not json at all`,
		"\x00\x01\xff\xfe",
		"",
		`{"status":"invalid_token"`,
	} {
		f.Add("broker-1:9092", []byte(s))
	}
	f.Fuzz(func(t *testing.T, server string, challenge []byte) {
		if strings.ContainsFunc(server, func(r rune) bool { return r < 0x20 || r == 0x7f || r > 0x7e }) || len(server) > 255 {
			// The server name is ours (a broker address), not the
			// broker's input.
			return
		}
		rej := ParseChallenge(server, challenge)
		require.NotNil(t, rej)
		require.Equal(t, server, rej.Server)
		var err error = rej
		require.False(t, oauthbearer.IsTransient(err), "a rejection must not be retried with the same token")
		var as *oauthbearer.RejectedError
		require.True(t, errors.As(err, &as))

		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "oauthbearer: "), "message %q lacks the package prefix", msg)
		require.LessOrEqual(t, len(msg), maxRejectionMessage, "the challenge blew the message up to %d bytes", len(msg))
		require.False(t, strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }),
			"message %q has control characters (log injection)", msg)
		require.Contains(t, msg, brokerstatus.Hint(rej.Status))

		var body struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(challenge, &body) == nil && body.Status != "" && len(body.Status) <= maxChallengeField {
			require.Equal(t, srvtext.Scrub(body.Status), rej.Status, "the broker's status was not kept (scrubbed of controls and secret-shaped runs)")
		}
	})
}
