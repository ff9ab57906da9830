package oauthbearer

import (
	"fmt"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
)

// ResolveBackoff is the one rule for a MinBackoff and MaxBackoff pair set
// outside [CacheOptions] (confluentkafka's Refresher retries as the cache
// does). Zero means the cache's default; a negative value, or a
// MaxBackoff below the MinBackoff in effect, is an [*OptionError] naming
// owner's field as its user wrote it, such as "confluentkafka: Options.MaxBackoff
// (100ms) is less than Options.MinBackoff (default 500ms); raise
// MaxBackoff". owner is as for [ResolveFetchTimeout].
func ResolveBackoff(owner string, minBackoff, maxBackoff time.Duration) (lo, hi time.Duration, err error) {
	if err := checkDuration(owner, "MinBackoff", minBackoff, backoff.DefaultMin); err != nil {
		return 0, 0, err
	}
	if err := checkDuration(owner, "MaxBackoff", maxBackoff, backoff.DefaultMax); err != nil {
		return 0, 0, err
	}
	pkg, typ, _ := strings.Cut(owner, ".")
	describe := func(field string, d, def time.Duration) (time.Duration, string) {
		if d == 0 {
			return def, fmt.Sprintf("%s.%s (default %s)", typ, field, def)
		}
		return d, fmt.Sprintf("%s.%s (%s)", typ, field, d)
	}
	lo, loText := describe("MinBackoff", minBackoff, backoff.DefaultMin)
	hi, hiText := describe("MaxBackoff", maxBackoff, backoff.DefaultMax)
	if hi < lo {
		return 0, 0, &OptionError{Field: "MaxBackoff", pkg: pkg, msg: fmt.Sprintf("%s is less than %s; raise MaxBackoff", hiText, loText)}
	}
	return lo, hi, nil
}
