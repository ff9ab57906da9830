// Package optcheck holds the checks of option values that several options
// types share, each written once: a duration whose zero means its default
// must not be negative ([Duration]), and a MinBackoff and MaxBackoff pair
// must be in order ([Backoff]). oauthbearer.CacheOptions calls them, and
// so, through internal/cacheopts, does every other package's options
// (the Kafka client adapters, the Schema Registry, tokenfile).
//
// A refusal is an [*Error] naming the options type and its fields; the
// callers return it as the Err of an *oauthbearer.OptionError with the
// same Options and Fields. This package cannot build that type itself:
// oauthbearer imports it.
package optcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/backoff"
)

// Error is a refused option value.
type Error struct {
	// Options is the options type, package first, as its user writes
	// it: "oauthbearer.CacheOptions", "saramasasl.Options".
	Options string
	// Fields are the fields the message names, in its order.
	Fields []string
	msg    string
}

// Error reads "<package>: <Type>.<Field> ...; <what to do>".
func (e *Error) Error() string { return e.msg }

// Errorf returns an [*Error] for fields of options whose message is
// "<package>: " followed by format, formatted as fmt.Sprintf; format
// names each field as "<Type>.<Field>" (use [Name]).
func Errorf(options string, fields []string, format string, a ...any) *Error {
	pkg, _, _ := strings.Cut(options, ".")
	return &Error{Options: options, Fields: fields, msg: pkg + ": " + fmt.Sprintf(format, a...)}
}

// Name is how a message names field of options: "Options.FetchTimeout"
// for "saramasasl.Options".
func Name(options, field string) string {
	_, typ, _ := strings.Cut(options, ".")
	return typ + "." + field
}

// Duration is the rule for every duration option whose zero means its
// default def: it must not be negative. It returns the duration in
// effect (def for zero), or an [*Error] such as "saramasasl:
// Options.FetchTimeout is -1s; it must not be negative (0 means the
// default 30s)".
func Duration(options, field string, d, def time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, Errorf(options, []string{field}, "%s is %s; it must not be negative (0 means the default %s)", Name(options, field), d, def)
	case d == 0:
		return def, nil
	}
	return d, nil
}

// Backoff is the rule for a MinBackoff and MaxBackoff pair, of
// oauthbearer.CacheOptions or of options that retry as the cache does:
// zero means [backoff.DefaultMin] and [backoff.DefaultMax]; each must not
// be negative ([Duration]), and MaxBackoff must not be below the
// MinBackoff in effect. It returns the pair in effect, or an [*Error]
// such as "confluentkafka: Options.MaxBackoff (100ms) is less than
// Options.MinBackoff (default 500ms); raise MaxBackoff".
func Backoff(options string, minBackoff, maxBackoff time.Duration) (lo, hi time.Duration, err error) {
	if lo, err = Duration(options, "MinBackoff", minBackoff, backoff.DefaultMin); err != nil {
		return 0, 0, err
	}
	if hi, err = Duration(options, "MaxBackoff", maxBackoff, backoff.DefaultMax); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		describe := func(field string, set, d time.Duration) string {
			if set == 0 {
				return fmt.Sprintf("%s (default %s)", Name(options, field), d)
			}
			return fmt.Sprintf("%s (%s)", Name(options, field), d)
		}
		return 0, 0, Errorf(options, []string{"MaxBackoff", "MinBackoff"}, "%s is less than %s; raise MaxBackoff",
			describe("MaxBackoff", maxBackoff, hi), describe("MinBackoff", minBackoff, lo))
	}
	return lo, hi, nil
}
