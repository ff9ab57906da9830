//go:build cgo

package confluentkafka_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// TestLibrdkafkaTextIsScrubbed: librdkafka log lines, their client and
// facility names, and a broker's rejection (broker name and status) that
// echo the token the refresher set, or carry control characters, reach
// neither the application's logger nor Err() nor Explain's error as
// written.
//
// Fails on main: readLogs forwarded ev.Message, ev.Tag and ev.Name
// verbatim, and explainMessage quoted the broker name as written, so the
// token and the escape sequences reached the logger and Err().
func TestLibrdkafkaTextIsScrubbed(t *testing.T) {
	t.Parallel()
	// Opaque, shorter than the key-like pattern: only the refresher's
	// record of what it set can remove it.
	const tok = "opaqueTokenValue0123456789abcd"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZC0xIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMDEyMzQ1Njc4OQ"
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)})
	logs := make(chan kafka.LogEvent)
	var out syncbuf.Buffer
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, src, &confluentkafka.Options{Logs: logs,
		Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, "set", c.next(t))

	logs <- kafka.LogEvent{Name: "rdkafka#producer-1 " + tok, Tag: "SASL\x1b[31m" + tok, Level: 7,
		Message: "sent token " + tok + " and " + jwt + "\x1b]0;title\x07\r\nFORGED level=ERROR"}
	logs <- kafka.LogEvent{Name: "rdkafka#producer-1", Tag: "FAIL", Level: 3,
		Message: "sasl_ssl://b1-" + tok + "\x1b[2J:9093/1: SASL authentication error: {\"status\":\"invalid_token " + tok + "\"} (after 3ms in state AUTH_REQ)"}
	require.Eventually(t, func() bool { return r.Err() != nil }, 10*time.Second, 5*time.Millisecond, "the rejection was learnt")

	explained := r.Explain(kafka.NewError(kafka.ErrMsgTimedOut, "Local: Message timed out "+tok, false))
	pkgExplained := confluentkafka.Explain(kafka.NewError(kafka.ErrAuthentication,
		"sasl_ssl://b-"+jwt+"\n:9093/1: SASL authentication error: {\"status\":\"invalid_token\"}", false))
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(pkgExplained, &rej))
	var ke kafka.Error
	require.True(t, errors.As(explained, &ke), "the librdkafka error is still reachable")
	for what, text := range map[string]string{"log": out.String(), "Err": r.Err().Error(), "Refresher.Explain": explained.Error(), "Explain": pkgExplained.Error()} {
		assert.NotContains(t, text, tok, what)
		assert.NotContains(t, text, jwt[:30], what)
		assert.NotContains(t, text, "\x1b", what)
		assert.NotContains(t, text, "\x07", what)
		if what != "log" {
			assert.NotContains(t, text, "\n", what)
		}
	}
	assert.Equal(t, 2, strings.Count(out.String(), "librdkafka: "), "one record per log line, no forged line: %s", out.String())
	assert.NotContains(t, out.String(), "\nFORGED")
}
