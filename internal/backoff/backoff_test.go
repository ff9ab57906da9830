package backoff

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDelayRangeAndCap: below the cap every delay is in [retryAfter,
// retryAfter+step]; at the cap it is in [max(retryAfter, cap),
// max(retryAfter, cap)+cap/4], so a cache never probes more than once per
// cap; a long minimum with a huge cap does not overflow.
func TestDelayRangeAndCap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		for n := 1; n <= 8; n++ {
			d := Delay(r, n, 100*time.Millisecond, time.Second, 0)
			s := min(100*time.Millisecond<<(n-1), time.Second)
			if s < time.Second {
				assert.LessOrEqual(t, d, s, "n=%d", n)
			} else {
				assert.GreaterOrEqual(t, d, time.Second, "n=%d: at the cap, never below it", n)
				assert.LessOrEqual(t, d, time.Second*5/4, "n=%d", n)
			}
			ra := 3 * time.Second
			d = Delay(r, n, 100*time.Millisecond, time.Second, ra)
			assert.GreaterOrEqual(t, d, ra, "n=%d: Retry-After is a lower bound", n)
			assert.LessOrEqual(t, d, ra+time.Second*5/4, "n=%d: spread above Retry-After", n)
		}
	}
	for n := 1; n <= 200; n++ {
		assert.Positive(t, Delay(nil, n, 10*time.Second, math.MaxInt64, 0), "n=%d", n)
		assert.Positive(t, Spaced(nil, n, 10*time.Second, math.MaxInt64), "n=%d", n)
	}
}

// TestDelaySpreadsAboveRetryAfter: a thousand caches throttled with the
// same Retry-After come back spread over the step, not in one instant.
func TestDelaySpreadsAboveRetryAfter(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	seconds := map[time.Duration]int{}
	for range 1000 {
		seconds[Delay(r, 4, 500*time.Millisecond, 10*time.Second, time.Second).Truncate(time.Second)]++
	}
	assert.GreaterOrEqual(t, len(seconds), 4, "1s Retry-After + [0, 4s]: four distinct seconds")
	for s, n := range seconds {
		assert.Less(t, n, 350, "second %s got %d of 1000 retries", s, n)
	}
}

// TestSameSeedSameDelays: with an injected source the delays repeat, so a
// simulation is reproducible.
func TestSameSeedSameDelays(t *testing.T) {
	t.Parallel()
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for n := 1; n <= 10; n++ {
		assert.Equal(t, Delay(a, n, time.Second, 10*time.Second, 0), Delay(b, n, time.Second, 10*time.Second, 0))
		assert.Equal(t, Spaced(a, n, time.Second, 10*time.Second), Spaced(b, n, time.Second, 10*time.Second))
	}
}

func TestSpacedRange(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 8; n++ {
		d := Spaced(nil, n, 100*time.Millisecond, time.Second)
		s := min(100*time.Millisecond<<(n-1), time.Second)
		assert.GreaterOrEqual(t, d, s/2, "n=%d", n)
		assert.LessOrEqual(t, d, s, "n=%d", n)
	}
}
