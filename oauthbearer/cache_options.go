package oauthbearer

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
)

// DefaultFetchTimeout is the one default bound on getting a token, used
// wherever a FetchTimeout is left zero: by the cache for one fetch from its
// source, by the adapters and the Schema Registry transport for one Token
// call.
const DefaultFetchTimeout = 30 * time.Second

// OptionError reports a [CacheOptions] field whose value a [Cache] cannot
// use, or another package's FetchTimeout refused by [ResolveFetchTimeout]. Field names the field, so that code translating settings from
// elsewhere (the confluent package's client.properties parser) can map it
// back to the setting the user wrote.
type OptionError struct {
	// Field is the CacheOptions field, such as "Jitter", or the
	// FetchTimeout of another package's options ([ResolveFetchTimeout]).
	Field string
	pkg   string // the options' package; "" is oauthbearer
	msg   string
}

// Error reads "oauthbearer: CacheOptions.<Field> is <value>; <what to use>"
// (another package's options: "<pkg>: <Type>.<Field> is ...").
func (e *OptionError) Error() string {
	if e.pkg != "" {
		return e.pkg + ": " + e.msg
	}
	return "oauthbearer: " + e.msg
}

// Detail is the message without the package prefix, for callers that
// quote it inside their own error.
func (e *OptionError) Detail() string { return e.msg }

func optionErr(field, format string, a ...any) error {
	return &OptionError{Field: field, msg: fmt.Sprintf(format, a...)}
}

// Validate reports whether [NewCache] accepts o, returning an
// [*OptionError] naming the first field out of range. It is the one place
// the cache's ranges are defined: NewCache calls it, and so does every
// parser that translates text settings into CacheOptions. Zero fields mean
// their defaults and are valid.
func (o CacheOptions) Validate() error {
	// o is a copy: filling in the defaults does not touch the caller's.
	o.fillDefaults()
	return o.checkRanges()
}

// setDefaults fills in the defaults and checks the ranges; NewCache uses
// the result.
func (o *CacheOptions) setDefaults() error {
	o.fillDefaults()
	return o.checkRanges()
}

// cacheDurations lists the duration fields with their defaults, in the
// order they are checked.
func (o *CacheOptions) cacheDurations() []struct {
	name string
	v    *time.Duration
	def  time.Duration
} {
	return []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"SafetyMargin", &o.SafetyMargin, time.Minute},
		{"MaxLifetime", &o.MaxLifetime, 24 * time.Hour},
		{"FetchTimeout", &o.FetchTimeout, DefaultFetchTimeout},
		{"MinBackoff", &o.MinBackoff, backoff.DefaultMin},
		{"MaxBackoff", &o.MaxBackoff, backoff.DefaultMax},
	}
}

func (o *CacheOptions) fillDefaults() {
	if o.Name == "" {
		o.Name = "token source"
	}
	if o.RefreshFraction == 0 {
		o.RefreshFraction = 0.8
	}
	if o.Jitter == 0 {
		o.Jitter = 0.02
	}
	for _, d := range o.cacheDurations() {
		if *d.v == 0 {
			*d.v = d.def
		}
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
}

// checkRanges checks filled-in options. NaN compares false with
// everything, so each range is written as "inside", not "not outside".
func (o *CacheOptions) checkRanges() error {
	if !(o.RefreshFraction >= 0.5 && o.RefreshFraction <= 0.9) {
		return optionErr("RefreshFraction", "CacheOptions.RefreshFraction is %v; use a value from 0.5 to 0.9 (default 0.8)", o.RefreshFraction)
	}
	if !(o.Jitter >= 0 && o.Jitter <= 0.1) {
		return optionErr("Jitter", "CacheOptions.Jitter is %v; use a value from 0 to 0.1 (default 0.02)", o.Jitter)
	}
	for _, d := range o.cacheDurations() {
		if err := checkDuration("oauthbearer.CacheOptions", d.name, *d.v, d.def); err != nil {
			return err
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		return optionErr("MaxBackoff", "CacheOptions.MaxBackoff (%s) is less than MinBackoff (%s); raise MaxBackoff", o.MaxBackoff, o.MinBackoff)
	}
	return nil
}

// setFields lists the fields of o that are set (non-zero), as
// "CacheOptions.<Field>".
func setFields(o *CacheOptions) []string {
	if o == nil {
		return nil
	}
	v := reflect.ValueOf(*o)
	var set []string
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() && !v.Field(i).IsZero() {
			set = append(set, "CacheOptions."+f.Name)
		}
	}
	return set
}
