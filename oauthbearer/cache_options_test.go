package oauthbearer_test

import (
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
	}{
		"zero value":        {oauthbearer.CacheOptions{}, ""},
		"in range":          {oauthbearer.CacheOptions{RefreshFraction: 0.5, Jitter: 0.1, SafetyMargin: time.Second}, ""},
		"fraction NaN":      {oauthbearer.CacheOptions{RefreshFraction: math.NaN()}, "RefreshFraction"},
		"fraction +Inf":     {oauthbearer.CacheOptions{RefreshFraction: math.Inf(1)}, "RefreshFraction"},
		"fraction high":     {oauthbearer.CacheOptions{RefreshFraction: 0.95}, "RefreshFraction"},
		"jitter NaN":        {oauthbearer.CacheOptions{Jitter: math.NaN()}, "Jitter"},
		"jitter -Inf":       {oauthbearer.CacheOptions{Jitter: math.Inf(-1)}, "Jitter"},
		"jitter 0.15":       {oauthbearer.CacheOptions{Jitter: 0.15}, "Jitter"},
		"negative timeout":  {oauthbearer.CacheOptions{FetchTimeout: -time.Millisecond}, "FetchTimeout"},
		"max below default": {oauthbearer.CacheOptions{MaxBackoff: 100 * time.Millisecond}, "MaxBackoff"},
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
			assert.Equal(t, tc.field, oe.Field)
			assert.Contains(t, err.Error(), "CacheOptions."+tc.field)
			require.Error(t, nerr, "NewCache must agree with Validate")
			assert.Equal(t, err.Error(), nerr.Error())
		})
	}
	o := oauthbearer.CacheOptions{}
	require.NoError(t, o.Validate())
	assert.Equal(t, oauthbearer.CacheOptions{}, o, "Validate does not fill in the caller's options")
}
