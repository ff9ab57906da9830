// Package audience holds the one check of the audience a token source
// requests (gcp, spiffe, azure and aws call it), so that every source
// refuses the same values with the same words and the same error type.
package audience

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Check returns an [*oauthbearer.OptionError] if a cannot be the audience
// of a token: empty, with white space around it (a value read with its
// trailing newline from a file or `$(cat ...)`), or holding a NUL or a
// line break. Such a value is refused rather than trimmed: the broker
// compares aud with its expected.audience exactly, so what was requested
// is what must be configured.
//
// options is the options type, package first ("gcp.IDTokenOptions"), or
// the package alone for a function that serves several types ("azure");
// field is the field as the user wrote it ("Audience", "Audience[1]");
// hint, if not empty, ends the message (a link, or what the audience is
// on that cloud). A source with stricter rules of its own (Azure's scope
// forms, STS's length limits) checks them after.
func Check(options, field, a, hint string) error {
	pkg, setting := options, field
	if p, typ, ok := strings.Cut(options, "."); ok {
		pkg, setting = p, typ+"."+field
	}
	var msg string
	switch {
	case a == "":
		msg = fmt.Sprintf("%s: %s is empty; set it to the audience the Kafka cluster expects (its expected.audience)", pkg, setting)
	case strings.TrimSpace(a) != a || strings.ContainsAny(a, "\x00\r\n"):
		msg = fmt.Sprintf("%s: %s is %s, with spaces or line breaks around or in it; use the exact audience the Kafka cluster expects (its expected.audience)", pkg, setting, srvtext.Quote(a, 0))
	default:
		return nil
	}
	if hint != "" {
		msg += "; " + hint
	}
	return &oauthbearer.OptionError{Options: options, Fields: []string{field}, Err: errors.New(msg)}
}
