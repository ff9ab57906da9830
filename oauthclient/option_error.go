package oauthclient

import "fmt"

// OptionError reports option fields a source cannot use: at construction,
// or at a fetch for the files read on every refresh (AssertionFile,
// Assertion.PrivateKeyFile, Assertion.TemplateFile). Its message names
// each field by its path, such as
// "JWTBearerOptions.Assertion.PrivateKeyFile"; Fields lists them, so that
// code translating settings from elsewhere (the clientprops package,
// from a client.properties) can name the setting the user wrote instead.
type OptionError struct {
	// Options is the options type: "JWTBearerOptions" or
	// "ClientCredentialsOptions".
	Options string
	// Fields are the fields the message names, in its order, such as
	// "TokenURL", or "Assertion.Issuer" for
	// JWTBearerOptions.Assertion.Issuer.
	Fields []string
	err    error
}

// Error reads "oauthclient: <Options>.<field> ...; <what to do>".
func (e *OptionError) Error() string { return e.err.Error() }

// Unwrap returns the underlying error, such as a file's read error.
func (e *OptionError) Unwrap() error { return e.err }

// field is an option field named in an [OptionError]'s message.
type field string

// options names option fields in errors: the options type, and the
// path of the fields within it ("" or "Assertion.").
type options struct{ typ, prefix string }

// ccOptions names ClientCredentialsOptions fields in errors.
func ccOptions() options { return options{typ: "ClientCredentialsOptions"} }

// name is how a message names f: "JWTBearerOptions.TokenURL".
func (n options) name(f field) string { return n.typ + "." + n.prefix + string(f) }

// errorf returns an [*OptionError] formatted as fmt.Errorf, with each
// argument of type field rendered by name and listed in Fields.
func (n options) errorf(format string, a ...any) error {
	e := &OptionError{Options: n.typ}
	for i, v := range a {
		if f, ok := v.(field); ok {
			e.Fields = append(e.Fields, n.prefix+string(f))
			a[i] = n.name(f)
		}
	}
	e.err = fmt.Errorf(format, a...)
	return e
}

// wrap makes err, whose message names f already (by name), an
// [*OptionError]; nil stays nil.
func (n options) wrap(err error, f field) error {
	if err == nil {
		return nil
	}
	return &OptionError{Options: n.typ, Fields: []string{n.prefix + string(f)}, err: err}
}
