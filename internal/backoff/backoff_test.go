package backoff

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDelayRangeAndCap: every delay is within [d/2, d] of the doubled
// step, capped, and never below Retry-After; a long minimum with a huge
// cap does not overflow. The second part fails with confluentkafka's old
// copy (d *= 2 without the cap check): at n=40 with a 10s minimum and
// a cap near MaxInt64 the step went negative.
func TestDelayRangeAndCap(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 8; n++ {
		d := Delay(n, 100*time.Millisecond, time.Second, 0)
		step := min(100*time.Millisecond<<(n-1), time.Second)
		assert.GreaterOrEqual(t, d, step/2, "n=%d", n)
		assert.LessOrEqual(t, d, step, "n=%d", n)
	}
	assert.Equal(t, time.Hour, Delay(1, time.Millisecond, time.Second, time.Hour))
	for n := 1; n <= 200; n++ {
		d := Delay(n, 10*time.Second, math.MaxInt64, 0)
		assert.Positive(t, d, "n=%d", n)
	}
}
