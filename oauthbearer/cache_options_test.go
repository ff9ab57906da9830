package oauthbearer_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestCacheOptionsValidate checks that Validate is NewCache's own check:
// the same verdict, and a typed error naming the field so that parsers
// can map it back to the setting the user wrote. NaN and ±Inf are out of
// range: fails before CacheOptions.Validate existed (it did not compile),
// and NaN fails before checkRanges: setDefaults' "< 0.5 || > 0.9" let a
// NaN RefreshFraction or Jitter through, scheduling refreshes at NaN.
func TestCacheOptionsValidate(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{})
	for name, tc := range map[string]struct {
		opts  oauthbearer.CacheOptions
		field string
		want  string // in the message, after "CacheOptions."
	}{
		"zero value":        {oauthbearer.CacheOptions{}, "", ""},
		"in range":          {oauthbearer.CacheOptions{RefreshFraction: 0.5, Jitter: 0.1, SafetyMargin: time.Second}, "", ""},
		"fraction NaN":      {oauthbearer.CacheOptions{RefreshFraction: math.NaN()}, "RefreshFraction", "RefreshFraction is NaN"},
		"fraction +Inf":     {oauthbearer.CacheOptions{RefreshFraction: math.Inf(1)}, "RefreshFraction", "RefreshFraction is +Inf"},
		"fraction high":     {oauthbearer.CacheOptions{RefreshFraction: 1.01}, "RefreshFraction", "RefreshFraction is 1.01; use a value from 0.5 to 1 (default 0.8)"},
		"fraction 1.5":      {oauthbearer.CacheOptions{RefreshFraction: 1.5}, "RefreshFraction", "RefreshFraction is 1.5"},
		"Kafka's top":       {oauthbearer.CacheOptions{RefreshFraction: 1.0, Jitter: 0.25}, "", ""},
		"jitter NaN":        {oauthbearer.CacheOptions{Jitter: math.NaN()}, "Jitter", "Jitter is NaN"},
		"jitter -Inf":       {oauthbearer.CacheOptions{Jitter: math.Inf(-1)}, "Jitter", "Jitter is -Inf"},
		"jitter 0.26":       {oauthbearer.CacheOptions{Jitter: 0.26}, "Jitter", "Jitter is 0.26; use a value from 0 to 0.25 (default 0.02)"},
		"jitter 0.5":        {oauthbearer.CacheOptions{Jitter: 0.5}, "Jitter", "Jitter is 0.5; use a value from 0 to 0.25"},
		"negative margin":   {oauthbearer.CacheOptions{SafetyMargin: -time.Second}, "SafetyMargin", "SafetyMargin is -1s"},
		"negative timeout":  {oauthbearer.CacheOptions{FetchTimeout: -time.Millisecond}, "FetchTimeout", "FetchTimeout is -1ms"},
		"max below default": {oauthbearer.CacheOptions{MaxBackoff: 100 * time.Millisecond}, "MaxBackoff", "MaxBackoff (100ms) is less than CacheOptions.MinBackoff (default 500ms); raise MaxBackoff"},
		"backoff order":     {oauthbearer.CacheOptions{MinBackoff: time.Minute, MaxBackoff: time.Second}, "MaxBackoff", "MaxBackoff (1s) is less than CacheOptions.MinBackoff (1m0s)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.opts.Validate()
			c, nerr := oauthbearer.NewCache(src, &tc.opts)
			if tc.field == "" {
				require.NoError(t, err)
				require.NoError(t, nerr)
				require.NoError(t, c.Close())
				return
			}
			var oe *oauthbearer.OptionError
			require.True(t, errors.As(err, &oe), "want *OptionError, got %T: %v", err, err)
			assert.Equal(t, "oauthbearer.CacheOptions", oe.Options)
			assert.Equal(t, tc.field, oe.Fields[0])
			assert.Contains(t, err.Error(), "CacheOptions."+tc.want)
			require.Error(t, nerr, "NewCache must agree with Validate")
			assert.Equal(t, err.Error(), nerr.Error())
		})
	}
	o := oauthbearer.CacheOptions{}
	require.NoError(t, o.Validate())
	assert.Equal(t, oauthbearer.CacheOptions{}, o, "Validate does not fill in the caller's options")
}

// TestCacheKafkaTopFractionActsAsNinety: Kafka's largest window factor
// (1.0) and jitter (0.25) are accepted, and the refresh point still never
// passes 90% of the token's lifetime, so a token is refreshed well before
// it stops being handed out. Fails before the cache took Kafka's ranges
// (NewCache refused RefreshFraction 1.0).
func TestCacheKafkaTopFractionActsAsNinety(t *testing.T) {
	t.Parallel()
	const ttl = 10 * time.Hour
	c, _, clock, events := newTestCache(t, ttl, &oauthbearer.CacheOptions{RefreshFraction: 1.0, Jitter: 0.25})
	_, err := c.Token(context.Background())
	require.NoError(t, err)
	prev := nextEvent(t, events)
	require.NoError(t, prev.Err)
	for i := range 5 {
		clock.AdvanceSettled(prev.Start.Add(ttl*9/10).Sub(clock.Now()), func() { quiesce(t, c) })
		ev := nextEvent(t, events)
		require.NoError(t, ev.Err)
		assert.True(t, ev.Background, "refresh %d ran while the token was still served", i+1)
		assert.False(t, ev.Start.After(prev.Start.Add(ttl*9/10)), "refresh %d at %s, past 90%% of the lifetime", i+1, ev.Start.Sub(prev.Start))
		prev = ev
	}
}
