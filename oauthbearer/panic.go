package oauthbearer

import (
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// describePanic quotes a recovered panic value safely: its type, and for
// an error, a string or a fmt.Stringer (whose methods are the value's own
// redaction, as Token's is) its text scrubbed of anything token-shaped and
// control characters, and clipped. Other values (a struct that may hold a
// token in a plain string field) are described by their type only.
func describePanic(r any) string {
	var text string
	switch v := r.(type) {
	case error:
		text = v.Error()
	case string:
		text = v
	case fmt.Stringer:
		text = v.String()
	default:
		return fmt.Sprintf("a panic value of type %T", r)
	}
	return fmt.Sprintf("%s (a %T)", srvtext.Field(text), r)
}
