package oauthbearer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/optcheck"
)

// OptionError reports option fields whose values cannot be used: of
// [CacheOptions] (at [NewCache] or [CacheOptions.Validate]), and of every
// other options type of this module and its adapters, such as
// oauthclient.JWTBearerOptions or saramasasl.Options, at construction or,
// for files read on every refresh, at a fetch. Its message names each
// field by its path, such as "CacheOptions.Jitter" or
// "JWTBearerOptions.Assertion.PrivateKeyFile"; Options and Fields say
// which, so that code translating settings from elsewhere (the
// clientprops package, from a client.properties) can name the setting
// the user wrote instead.
type OptionError struct {
	// Options is the options type, package first, as its user writes
	// it: "oauthbearer.CacheOptions", "saramasasl.Options",
	// "oauthclient.JWTBearerOptions".
	Options string
	// Fields are the fields the message names, in its order, as paths
	// within Options: "Jitter"; "Assertion.PrivateKeyFile"; two or more
	// when the values conflict, such as "MaxBackoff", "MinBackoff" for a
	// MaxBackoff below the MinBackoff.
	Fields []string
	// Err is the error as reported, whose message is the OptionError's:
	// "<package>: <Type>.<Field> ...; <what to do>". It wraps the cause,
	// if any, such as a file's read error.
	Err error
}

// Error returns Err's message, such as "oauthbearer: CacheOptions.Jitter
// is 0.5; use a value from 0 to 0.25 (default 0.02)"; without an Err, it
// names Options and Fields.
func (e *OptionError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("oauthbearer: %s: invalid %s", e.Options, strings.Join(e.Fields, ", "))
	}
	return e.Err.Error()
}

// Unwrap returns Err, through which the cause, if any, is reached.
func (e *OptionError) Unwrap() error { return e.Err }

// cacheOptions is how errors name CacheOptions.
const cacheOptions = "oauthbearer.CacheOptions"

// optionError returns err, a refusal of internal/optcheck, as an
// [*OptionError]; other errors, and nil, unchanged.
func optionError(err error) error {
	if e, ok := errors.AsType[*optcheck.Error](err); ok {
		return &OptionError{Options: e.Options, Fields: e.Fields, Err: err}
	}
	return err
}

// optionErrorf returns an [*OptionError] for fields of CacheOptions; see
// optcheck.Errorf.
func optionErrorf(fields []string, format string, a ...any) error {
	return optionError(optcheck.Errorf(cacheOptions, fields, format, a...))
}
