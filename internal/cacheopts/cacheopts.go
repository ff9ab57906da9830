// Package cacheopts holds what other packages' options share with
// oauthbearer.CacheOptions: the one rule every source applies to the
// cache options its caller passes (copy them, the caller's value is never
// modified, and name the cache after the source unless the caller named
// it); the label that tells the cache which kind of source it holds; and
// the checks of the duration options that the adapters, the Schema
// Registry and tokenfile have beside the cache's ([FetchTimeout],
// [Duration], [Backoff]), which are the cache's own (internal/optcheck)
// and return its error type, *oauthbearer.OptionError.
package cacheopts

import (
	"errors"
	"io"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/optcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// FetchTimeout is the one rule for a FetchTimeout set outside
// CacheOptions: each Kafka client adapter's Options and the Schema
// Registry's. Zero means oauthbearer.DefaultFetchTimeout; a negative
// value is an *oauthbearer.OptionError whose Fields are "FetchTimeout".
// options is the options type as its user writes it, package first,
// such as "saramasasl.Options": the error then reads "saramasasl:
// Options.FetchTimeout is -1s; it must not be negative (0 means the
// default 30s)".
func FetchTimeout(options string, d time.Duration) (time.Duration, error) {
	return Duration(options, "FetchTimeout", d, oauthbearer.DefaultFetchTimeout)
}

// Duration is the rule for every duration option whose zero means its
// default def (optcheck.Duration): it returns the duration in effect, or
// an *oauthbearer.OptionError for a negative d.
func Duration(options, field string, d, def time.Duration) (time.Duration, error) {
	d, err := optcheck.Duration(options, field, d, def)
	return d, optionError(err)
}

// Backoff is the cache's rule for a MinBackoff and MaxBackoff pair
// (optcheck.Backoff), for options that retry as the cache does
// (confluentkafka's Refresher): it returns the pair in effect, or an
// *oauthbearer.OptionError.
func Backoff(options string, minBackoff, maxBackoff time.Duration) (lo, hi time.Duration, err error) {
	lo, hi, err = optcheck.Backoff(options, minBackoff, maxBackoff)
	return lo, hi, optionError(err)
}

// optionError returns a refusal of optcheck as the
// *oauthbearer.OptionError it is; nil stays nil.
func optionError(err error) error {
	if e, ok := errors.AsType[*optcheck.Error](err); ok {
		return &oauthbearer.OptionError{Options: e.Options, Fields: e.Fields, Err: err}
	}
	return err
}

// WithName returns a copy of o (nil: the zero options, which mean the
// defaults) whose Name is name unless o already has one.
func WithName(o *oauthbearer.CacheOptions, name string) *oauthbearer.CacheOptions {
	var c oauthbearer.CacheOptions
	if o != nil {
		c = *o
	}
	if c.Name == "" {
		c.Name = name
	}
	return &c
}

// Now returns the clock of o (nil: the zero options) that the cache
// will run on, o.Clock's Now or else time.Now, for a source to stamp
// what it times (a token's issue time, from which expires_in counts) on
// the cache's clock.
func Now(o *oauthbearer.CacheOptions) func() time.Time {
	if o != nil && o.Clock != nil {
		return o.Clock.Now
	}
	return time.Now
}

// Kind returns src labelled with kind, the fixed string per constructor
// that observers label metrics with next to the caller's Name:
// oauthbearer.NewCache reads it from the source's TokenSourceKind method.
// Invalidate and Close reach src when it has them.
func Kind(src oauthbearer.TokenSource, kind string) oauthbearer.TokenSource {
	return &kinded{TokenSource: src, kind: kind}
}

type kinded struct {
	oauthbearer.TokenSource
	kind string
}

func (k *kinded) TokenSourceKind() string { return k.kind }

func (k *kinded) Invalidate(rejected oauthbearer.Token) {
	oauthbearer.Invalidate(k.TokenSource, rejected)
}

func (k *kinded) Close() error {
	if c, ok := k.TokenSource.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
