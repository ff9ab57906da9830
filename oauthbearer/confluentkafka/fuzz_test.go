//go:build cgo

package confluentkafka

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzScrubLibrdkafkaText feeds arbitrary librdkafka log lines (a
// broker's rejection among them) through the adapter's scrub and
// rejection parser with a token the refresher set: neither output holds
// the token or a control character, and both are bounded.
func FuzzScrubLibrdkafkaText(f *testing.F) {
	const tok = "opaqueTokenValue0123456789abcd"
	f.Add(`sasl_ssl://b1:9093/1: SASL authentication error: {"status":"invalid_token"} (after 3ms in state AUTH_REQ)`, tok)
	f.Add("sasl_ssl://b-"+tok+"\x1b[2J:9093/1: SASL authentication error: {\"status\":\""+tok+"\"}", tok)
	f.Add("\r\nFORGED level=ERROR \u202e", "abcd")
	f.Fuzz(func(t *testing.T, msg, sent string) {
		// A value of 12 or more characters with a digit cannot be part of
		// the package's own wording by chance.
		clean := len(sent) >= 12 && strings.ContainsAny(sent, "0123456789") && !strings.ContainsAny(sent, "[]") &&
			!strings.ContainsFunc(sent, func(r rune) bool { return r < 0x20 || r >= 0x7f })
		check := func(what, s string) {
			require.LessOrEqual(t, len(s), 4*maxText, what)
			require.False(t, strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }), "%s: %q", what, s)
			if clean {
				require.NotContains(t, s, sent, what)
			}
		}
		check("scrub", scrub(msg, sent))
		if err := explainMessage(msg, sent); err != nil {
			check("rejection", err.Error())
		}
	})
}
