package clientprops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestLoginTuningBadNumbers: every numeric sasl.login.* setting is
// checked for syntax and overflow by the parser and for range by the
// cache's own CacheOptions.Validate, and a bad value is a *PropertyError
// naming the key, the line and the value as written.
//
// Fails before the numeric checks were rebuilt on CacheOptions.Validate
// (verified by restoring the old clientconfig.go: every row fails). Among
// what the old parser accepted: NaN, hex floats (0x1p-1), jitter 0.15
// (allowed up to 0.2 by the parser, refused by the cache only in Build,
// naming neither key nor line), 9223372036854775807 ms (time.Duration
// overflow), negative timeouts and the connect + read timeout overflow.
// The cache's refusals name the file's keys, not CacheOptions fields.
func TestLoginTuningBadNumbers(t *testing.T) {
	t.Parallel()
	const head = "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n"
	tests := []struct {
		name  string
		lines string // after head: the setting under test is the last line
		want  string
	}{
		{"factor NaN", "sasl.login.refresh.window.factor=NaN", "is NaN"},
		{"factor Infinity", "sasl.login.refresh.window.factor=Infinity", "sasl.login.refresh.window.factor is +Inf; use a value from 0.5 to 1"},
		{"factor hex without exponent", "sasl.login.refresh.window.factor=0x1", "is not a number"},
		{"factor two suffixes", "sasl.login.refresh.window.factor=0.8dd", "is not a number"},
		{"factor lower-case inf", "sasl.login.refresh.window.factor=inf", "is not a number"},
		{"factor above Kafka's range", "sasl.login.refresh.window.factor=1.01", "sasl.login.refresh.window.factor is 1.01; use a value from 0.5 to 1"},
		{"factor below Kafka's range", "sasl.login.refresh.window.factor=0.49", "sasl.login.refresh.window.factor is 0.49; use a value from 0.5 to 1"},
		{"factor zero", "sasl.login.refresh.window.factor=0", "is out of range: Kafka allows 0.5 to 1.0"},
		{"jitter above Kafka's range", "sasl.login.refresh.window.jitter=0.26", "sasl.login.refresh.window.jitter is 0.26; use a value from 0 to 0.25"},
		{"jitter overflow", "sasl.login.refresh.window.jitter=1e400", "not a finite number"},
		{"jitter negative", "sasl.login.refresh.window.jitter=-0.01", "sasl.login.refresh.window.jitter is -0.01"},
		{"jitter underscore", "sasl.login.refresh.window.jitter=0.0_5", "is not a number"},
		{"buffer max int64", "sasl.login.refresh.buffer.seconds=9223372036854775807", "out of range: not a 16-bit whole number"},
		{"buffer above Kafka's range", "sasl.login.refresh.buffer.seconds=3601", "is out of range: Kafka allows 0 to 3600 seconds"},
		{"buffer underscore", "sasl.login.refresh.buffer.seconds=1_0", "not a whole number of seconds"},
		{"buffer negative", "sasl.login.refresh.buffer.seconds=-1", "is out of range: Kafka allows 0 to 3600 seconds"},
		{"buffer fraction", "sasl.login.refresh.buffer.seconds=1.5", "not a whole number of seconds"},
		{"min period above Kafka's range", "sasl.login.refresh.min.period.seconds=901", "is out of range: Kafka allows 0 to 900 seconds"},
		{"min period negative", "sasl.login.refresh.min.period.seconds=-1", "is out of range: Kafka allows 0 to 900 seconds"},
		{"min period fraction", "sasl.login.refresh.min.period.seconds=60.0", "not a whole number of seconds"},
		{"backoff max int64 ms", "sasl.login.retry.backoff.ms=9223372036854775807", "out of range: at most 9223372036854 milliseconds"},
		{"backoff beyond int64", "sasl.login.retry.backoff.ms=99999999999999999999", "out of range"},
		{"backoff hex", "sasl.login.retry.backoff.ms=0x10", "not a whole number of milliseconds"},
		{"backoff exponent", "sasl.login.retry.backoff.ms=1e3", "not a whole number of milliseconds"},
		{"backoff negative", "sasl.login.retry.backoff.ms=-1", "sasl.login.retry.backoff.ms is -1ms; it must not be negative"},
		{"max backoff negative", "sasl.login.retry.backoff.max.ms=-1", "sasl.login.retry.backoff.max.ms is -1ms; it must not be negative"},
		{"max backoff below default min", "sasl.login.retry.backoff.max.ms=100", "sasl.login.retry.backoff.max.ms (100ms) is less than sasl.login.retry.backoff.ms (default 500ms); raise sasl.login.retry.backoff.max.ms"},
		{"min backoff above max", "sasl.login.retry.backoff.max.ms=10000\nsasl.login.retry.backoff.ms=20000", "sasl.login.retry.backoff.max.ms (10s) is less than sasl.login.retry.backoff.ms (20s)"},
		{"timeout double sign", "sasl.login.connect.timeout.ms=+-1", "not a whole number of milliseconds"},
		{"timeout negative", "sasl.login.read.timeout.ms=-5", "sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms is -5ms; it must not be negative"},
		{"read timeout negative after connect", "sasl.login.connect.timeout.ms=10000\nsasl.login.read.timeout.ms=-5", "sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms is -5ms; it must not be negative"},
		{"connect timeout negative after read", "sasl.login.read.timeout.ms=10000\nsasl.login.connect.timeout.ms=-5", "sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms is -5ms; it must not be negative"},
		{"timeouts sum overflow", "sasl.login.connect.timeout.ms=9223372036854\nsasl.login.read.timeout.ms=9223372036854", "overflows the fetch timeout"},
		{"control characters quoted", "sasl.login.read.timeout.ms=5\\u001b[31m", "not a whole number"},
	}
	require.GreaterOrEqual(t, len(tests), 10)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := head + tc.lines + "\n"
			line := strings.Count(head+tc.lines, "\n") + 1
			last := tc.lines[strings.LastIndex(tc.lines, "\n")+1:]
			key, value, _ := strings.Cut(last, "=")
			if v, err := strconv.Unquote(`"` + value + `"`); err == nil {
				value = v // the file's \uXXXX escapes, which Java and Go read alike
			}
			_, err := parse([]byte(in))
			require.Error(t, err)
			var pe *PropertyError
			require.True(t, errors.As(err, &pe), "want *PropertyError, got %T: %v", err, err)
			assert.Equal(t, key, pe.Key)
			assert.Equal(t, line, pe.Line)
			msg := err.Error()
			assert.Contains(t, msg, fmt.Sprintf("line %d: %s: ", line, key))
			assert.Contains(t, msg, strconv.Quote(value), "the value as written")
			assert.Contains(t, msg, tc.want)
			assert.Contains(t, msg, "#bad-numeric-setting")
			assert.NotContains(t, msg, "\x1b", "control characters are escaped")
			// The file's keys, never the cache's Go names (which the
			// message named before the cache's fields were mapped).
			for _, goName := range []string{"oauthbearer:", "CacheOptions", "RefreshFraction", "Jitter", "SafetyMargin", "MinBackoff", "MaxBackoff", "FetchTimeout"} {
				assert.NotContains(t, msg, goName)
			}
		})
	}
}

// TestLoginTuningJitterFailsAtParse is the known disagreement: the parser
// allowed sasl.login.refresh.window.jitter up to 0.2, the cache 0.1, so
// 0.15 parsed and then Build failed with "CacheOptions.Jitter is 0.15",
// naming neither the key nor the line. Fails before the parser delegated
// its ranges to CacheOptions.Validate (ParseClientProperties returned no
// error). The cache now has Kafka's range, 0 to 0.25, so the value past
// it is 0.26.
func TestLoginTuningJitterFailsAtParse(t *testing.T) {
	t.Parallel()
	in := strings.Replace(seedIMDS, "sasl.mechanism=OAUTHBEARER\n", "sasl.mechanism=OAUTHBEARER\nsasl.login.refresh.window.jitter=0.26\n", 1)
	_, err := parse([]byte(in))
	require.Error(t, err)
	var pe *PropertyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "sasl.login.refresh.window.jitter", pe.Key)
	assert.Equal(t, 5, pe.Line)
	var oe *oauthbearer.OptionError
	require.ErrorAs(t, err, &oe, "the cache's own error is reachable")
	assert.Equal(t, []string{"Jitter"}, oe.Fields)
	assert.Contains(t, err.Error(), `line 5: sasl.login.refresh.window.jitter: "0.26" is out of the refreshing cache's range`)
}

// TestLoginTuningGoodNumbers: what Kafka accepts and the cache can honour
// still parses, and anything parsed builds.
func TestLoginTuningGoodNumbers(t *testing.T) {
	t.Parallel()
	in := strings.Replace(seedIMDS, "sasl.mechanism=OAUTHBEARER\n", `sasl.mechanism=OAUTHBEARER
sasl.login.refresh.window.factor= 0.9
sasl.login.refresh.window.jitter=+5e-2
sasl.login.refresh.buffer.seconds=300
sasl.login.retry.backoff.ms=100
sasl.login.retry.backoff.max.ms=10000
sasl.login.connect.timeout.ms=10000
sasl.login.read.timeout.ms=+20000
`, 1)
	c, err := parse([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, &oauthbearer.CacheOptions{RefreshFraction: 0.9, Jitter: 0.05, SafetyMargin: 5 * time.Minute,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, FetchTimeout: 30 * time.Second}, c.Cache)
	require.NoError(t, c.Cache.Validate())
}

// TestLoginTuningKafkaEdges: every value Kafka 4.4's ConfigDef accepts
// for a numeric sasl.login.* setting parses (Kafka's range edges, its 0s,
// Java's number forms), becomes the CacheOptions docs/troubleshooting.md
// describes, and builds. Fails before the parser took Kafka's ranges
// (factor above 0.9, jitter above 0.1, any 0, Java suffixes and hex
// floats, and every sasl.login.refresh.min.period.seconds were refused).
func TestLoginTuningKafkaEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want *oauthbearer.CacheOptions // nil: the setting changes nothing
	}{
		{"sasl.login.refresh.window.factor=1.0", &oauthbearer.CacheOptions{RefreshFraction: 1}},
		{"sasl.login.refresh.window.factor=0.95", &oauthbearer.CacheOptions{RefreshFraction: 0.95}},
		{"sasl.login.refresh.window.factor=0.5", &oauthbearer.CacheOptions{RefreshFraction: 0.5}},
		{"sasl.login.refresh.window.factor=0.8d", &oauthbearer.CacheOptions{RefreshFraction: 0.8}},
		{"sasl.login.refresh.window.factor=0x1p-1", &oauthbearer.CacheOptions{RefreshFraction: 0.5}},
		{"sasl.login.refresh.window.factor=.75F", &oauthbearer.CacheOptions{RefreshFraction: 0.75}},
		{"sasl.login.refresh.window.jitter=0.25", &oauthbearer.CacheOptions{Jitter: 0.25}},
		{"sasl.login.refresh.window.jitter=0", &oauthbearer.CacheOptions{}},
		{"sasl.login.refresh.window.jitter=-0.0", &oauthbearer.CacheOptions{}},
		{"sasl.login.refresh.buffer.seconds=0", &oauthbearer.CacheOptions{}},
		{"sasl.login.refresh.buffer.seconds=3600", &oauthbearer.CacheOptions{SafetyMargin: time.Hour}},
		{"sasl.login.refresh.buffer.seconds=+300", &oauthbearer.CacheOptions{SafetyMargin: 5 * time.Minute}},
		{"sasl.login.refresh.min.period.seconds=0", nil},
		{"sasl.login.refresh.min.period.seconds=900", nil},
		{"sasl.login.retry.backoff.ms=0", &oauthbearer.CacheOptions{}},
		{"sasl.login.retry.backoff.max.ms=0", &oauthbearer.CacheOptions{}},
		{"sasl.login.connect.timeout.ms=0", &oauthbearer.CacheOptions{}},
		{"sasl.login.read.timeout.ms=0", &oauthbearer.CacheOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			t.Parallel()
			in := strings.Replace(seedIMDS, "sasl.mechanism=OAUTHBEARER\n", "sasl.mechanism=OAUTHBEARER\n"+tc.line+"\n", 1)
			c, err := parse([]byte(in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Cache)
			if c.Cache != nil {
				require.NoError(t, c.Cache.Validate())
			}
		})
	}
}
