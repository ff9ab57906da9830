package oauthbearer

import (
	"log/slog"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/optcheck"
)

// DefaultFetchTimeout is the one default bound on getting a token, used
// wherever a FetchTimeout is left zero: by the cache for one fetch from its
// source, by the adapters and the Schema Registry transport for one Token
// call.
const DefaultFetchTimeout = 30 * time.Second

// Validate reports whether [NewCache] accepts o, returning an
// [*OptionError] naming the first field out of range. It is the one place
// the cache's ranges are defined: NewCache calls it, and so does every
// parser that translates text settings into CacheOptions. Zero fields mean
// their defaults and are valid.
func (o CacheOptions) Validate() error {
	// o is a copy: filling in the defaults does not touch the caller's.
	return o.setDefaults()
}

// The defaults of the fields without an exported constant of their own,
// and the ranges of the two fractions: Kafka's own for
// sasl.login.refresh.window.factor and sasl.login.refresh.window.jitter,
// so that a client.properties file translates without narrowing.
const (
	defaultRefreshFraction = 0.8
	minRefreshFraction     = 0.5
	maxRefreshFraction     = 1.0
	defaultJitter          = 0.02
	maxJitter              = 0.25
	defaultSafetyMargin    = time.Minute
	defaultMaxLifetime     = 24 * time.Hour
)

// setDefaults checks the options as the caller set them, zero fields
// meaning their defaults, and fills in the defaults; NewCache uses the
// result. NaN compares false with everything, so each range is written
// as "inside", not "not outside".
func (o *CacheOptions) setDefaults() error {
	if f := o.RefreshFraction; f != 0 && !(f >= minRefreshFraction && f <= maxRefreshFraction) {
		return optionErrorf([]string{"RefreshFraction"}, "CacheOptions.RefreshFraction is %v; use a value from %v to %v (default %v)", f, minRefreshFraction, maxRefreshFraction, defaultRefreshFraction)
	}
	if !(o.Jitter >= 0 && o.Jitter <= maxJitter) {
		return optionErrorf([]string{"Jitter"}, "CacheOptions.Jitter is %v; use a value from 0 to %v (default %v)", o.Jitter, maxJitter, defaultJitter)
	}
	for _, d := range []struct {
		field string
		v     *time.Duration
		def   time.Duration
	}{
		{"SafetyMargin", &o.SafetyMargin, defaultSafetyMargin},
		{"MaxLifetime", &o.MaxLifetime, defaultMaxLifetime},
		{"FetchTimeout", &o.FetchTimeout, DefaultFetchTimeout},
	} {
		var err error
		if *d.v, err = optcheck.Duration(cacheOptions, d.field, *d.v, d.def); err != nil {
			return optionError(err)
		}
	}
	var err error
	if o.MinBackoff, o.MaxBackoff, err = optcheck.Backoff(cacheOptions, o.MinBackoff, o.MaxBackoff); err != nil {
		return optionError(err)
	}
	if o.Name == "" {
		o.Name = "token source"
	}
	if o.RefreshFraction == 0 {
		o.RefreshFraction = defaultRefreshFraction
	}
	if o.Jitter == 0 {
		o.Jitter = defaultJitter
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	return nil
}

// setFields lists the fields of o that are set (non-zero).
func setFields(o *CacheOptions) []string {
	if o == nil {
		return nil
	}
	v := reflect.ValueOf(*o)
	var set []string
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() && !v.Field(i).IsZero() {
			set = append(set, f.Name)
		}
	}
	return set
}
