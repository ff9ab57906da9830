package retryafter_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
)

func TestParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-5":                            0,
		"3600":                          time.Hour,
		"99999999999999":                retryafter.Max,
		"999999999999999999999999":      0, // not an int64: malformed
		"soon":                          0,
		"Sun, 22 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 22 Nov 2026 11:59:00 GMT": 0, // in the past
		"Thu, 01 Jan 2099 00:00:00 GMT": retryafter.Max,
	} {
		assert.Equal(t, want, retryafter.Parse(v, now), "Retry-After: %q", v)
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{
		"":                    0,
		"250":                 250 * time.Millisecond,
		"-1":                  0,
		"x":                   0,
		"9223372036854775807": retryafter.Max,
	} {
		assert.Equal(t, want, retryafter.Millis(v), "Retry-After-Ms: %q", v)
	}
}
