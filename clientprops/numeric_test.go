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
		{"factor NaN", "sasl.login.refresh.window.factor=NaN", "not a decimal number"},
		{"factor Infinity", "sasl.login.refresh.window.factor=Infinity", "not a decimal number"},
		{"factor hex float", "sasl.login.refresh.window.factor=0x1p-1", "not a decimal number"},
		{"factor java suffix", "sasl.login.refresh.window.factor=0.8d", "not a decimal number"},
		{"factor above cache range", "sasl.login.refresh.window.factor=0.95", "sasl.login.refresh.window.factor is 0.95; use a value from 0.5 to 0.9"},
		{"factor zero", "sasl.login.refresh.window.factor=0", `reads 0 as "use the default"`},
		{"jitter Kafka range, not the cache's", "sasl.login.refresh.window.jitter=0.15", "sasl.login.refresh.window.jitter is 0.15; use a value from 0 to 0.1"},
		{"jitter overflow", "sasl.login.refresh.window.jitter=1e400", "not a finite number"},
		{"jitter negative", "sasl.login.refresh.window.jitter=-0.01", "sasl.login.refresh.window.jitter is -0.01"},
		{"jitter underscore", "sasl.login.refresh.window.jitter=0.0_5", "not a decimal number"},
		{"buffer max int64", "sasl.login.refresh.buffer.seconds=9223372036854775807", "out of range: at most 9223372036 seconds"},
		{"buffer underscore", "sasl.login.refresh.buffer.seconds=1_0", "not a whole number of seconds"},
		{"buffer negative", "sasl.login.refresh.buffer.seconds=-1", "sasl.login.refresh.buffer.seconds is -1s; it must not be negative"},
		{"buffer fraction", "sasl.login.refresh.buffer.seconds=1.5", "not a whole number of seconds"},
		{"backoff max int64 ms", "sasl.login.retry.backoff.ms=9223372036854775807", "out of range: at most 9223372036854 milliseconds"},
		{"backoff beyond int64", "sasl.login.retry.backoff.ms=99999999999999999999", "out of range"},
		{"backoff hex", "sasl.login.retry.backoff.ms=0x10", "not a whole number of milliseconds"},
		{"backoff exponent", "sasl.login.retry.backoff.ms=1e3", "not a whole number of milliseconds"},
		{"backoff zero", "sasl.login.retry.backoff.ms=0", `reads 0 as "use the default"`},
		{"max backoff below default min", "sasl.login.retry.backoff.max.ms=100", "sasl.login.retry.backoff.max.ms (100ms) is less than sasl.login.retry.backoff.ms (default 500ms); raise sasl.login.retry.backoff.max.ms"},
		{"min backoff above max", "sasl.login.retry.backoff.max.ms=10000\nsasl.login.retry.backoff.ms=20000", "sasl.login.retry.backoff.max.ms (10s) is less than sasl.login.retry.backoff.ms (20s)"},
		{"timeout double sign", "sasl.login.connect.timeout.ms=+-1", "not a whole number of milliseconds"},
		{"timeout negative", "sasl.login.read.timeout.ms=-5", "sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms is -5ms"},
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
// error).
func TestLoginTuningJitterFailsAtParse(t *testing.T) {
	t.Parallel()
	in := strings.Replace(seedIMDS, "sasl.mechanism=OAUTHBEARER\n", "sasl.mechanism=OAUTHBEARER\nsasl.login.refresh.window.jitter=0.15\n", 1)
	_, err := parse([]byte(in))
	require.Error(t, err)
	var pe *PropertyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "sasl.login.refresh.window.jitter", pe.Key)
	assert.Equal(t, 5, pe.Line)
	var oe *oauthbearer.OptionError
	require.ErrorAs(t, err, &oe, "the cache's own error is reachable")
	assert.Equal(t, []string{"Jitter"}, oe.Fields)
	assert.Contains(t, err.Error(), `line 5: sasl.login.refresh.window.jitter: "0.15" is out of the refreshing cache's range`)
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
