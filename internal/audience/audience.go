// Package audience holds the one check of the audience a token source
// requests (gcp, spiffe, azure and aws call it), so that every source
// refuses the same values with the same words.
package audience

import (
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// Check returns an error if a cannot be the audience of a token: empty,
// with white space around it (a value read with its trailing newline
// from a file or `$(cat ...)`), or holding a NUL or a line break. Such a
// value is refused rather than trimmed: the broker compares aud with its
// expected.audience exactly, so what was requested is what must be
// configured. setting names the option as the user wrote it (such as
// "IDTokenOptions.Audience"); the caller adds its package prefix and a
// link, as its other option errors do. A source with stricter rules of
// its own (Azure's scope forms, STS's length limits) checks them after.
func Check(setting, a string) error {
	if a == "" {
		return fmt.Errorf("%s is empty; set it to the audience the Kafka cluster expects (its expected.audience)", setting)
	}
	if strings.TrimSpace(a) != a || strings.ContainsAny(a, "\x00\r\n") {
		return fmt.Errorf("%s is %s, with spaces or line breaks around or in it; use the exact audience the Kafka cluster expects (its expected.audience)", setting, srvtext.Quote(a, 0))
	}
	return nil
}
