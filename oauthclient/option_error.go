package oauthclient

import (
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// field is an option field named in an [*oauthbearer.OptionError]'s
// message. Errors of a field are that type, at construction or, for the
// files read on every refresh (AssertionFile, Assertion.PrivateKeyFile,
// Assertion.TemplateFile), at a fetch: its Options is
// "oauthclient.JWTBearerOptions" or "oauthclient.ClientCredentialsOptions",
// its Fields paths such as "Assertion.PrivateKeyFile".
type field string

// options names option fields in errors: the options type, and the
// path of the fields within it ("" or "Assertion.").
type options struct{ typ, prefix string }

// ccOptions names ClientCredentialsOptions fields in errors.
func ccOptions() options { return options{typ: "ClientCredentialsOptions"} }

// name is how a message names f: "JWTBearerOptions.TokenURL".
func (n options) name(f field) string { return n.typ + "." + n.prefix + string(f) }

// errorf returns an [*oauthbearer.OptionError] formatted as fmt.Errorf, with each
// argument of type field rendered by name and listed in Fields.
func (n options) errorf(format string, a ...any) error {
	e := &oauthbearer.OptionError{Options: "oauthclient." + n.typ}
	for i, v := range a {
		if f, ok := v.(field); ok {
			e.Fields = append(e.Fields, n.prefix+string(f))
			a[i] = n.name(f)
		}
	}
	e.Err = fmt.Errorf(format, a...)
	return e
}

// wrap makes err, whose message names f already (by name), an
// [*oauthbearer.OptionError]; nil stays nil.
func (n options) wrap(err error, f field) error {
	if err == nil {
		return nil
	}
	return &oauthbearer.OptionError{Options: "oauthclient." + n.typ, Fields: []string{n.prefix + string(f)}, Err: err}
}
