package oauthbearer

import (
	"errors"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// ErrTokenSyntax is matched (errors.Is) by the error for a token value that
// is not an RFC 6750 b64token and so could break the framing of the SASL
// message or the HTTP header that carries it.
var ErrTokenSyntax = errors.New("oauthbearer: the token is not an RFC 6750 b64token")

// TokenSyntaxError reports a token value that is not an RFC 6750 b64token
// (1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="), the
// syntax RFC 7628 requires in the SASL/OAUTHBEARER auth= field and RFC 6750
// in an Authorization: Bearer header. A value outside it (a \x01, a comma,
// a space, a line break) could inject SASL key/value pairs or HTTP header
// lines, so it is never sent. The error names the source and the position
// and class of the first bad byte, never the value.
type TokenSyntaxError struct {
	// Source names who produced the token, such as a cache's name or
	// an adapter.
	Source string
	// Offset is the position of the first bad byte; Len the value's length.
	Offset, Len int
	// Found describes the bad byte ("a control character", "a space", "','").
	Found string
}

// Error names the source and what is wrong, never the value.
func (e *TokenSyntaxError) Error() string {
	return fmt.Sprintf("oauthbearer: %s returned a token that is not an RFC 6750 b64token (byte %d of %d is %s; allowed are A-Z a-z 0-9 - . _ ~ + / and trailing =); "+
		"it would break SASL/OAUTHBEARER or HTTP bearer framing, so it is not sent; check that the source returns the access token itself, not a JSON reply or a header; %s",
		e.Source, e.Offset, e.Len, e.Found, troubleshooting.See("token-syntax"))
}

// Is makes errors.Is(err, [ErrTokenSyntax]) true.
func (e *TokenSyntaxError) Is(target error) bool { return target == ErrTokenSyntax }

// ValidateToken checks that v is an RFC 6750 b64token, returning a
// [*TokenSyntaxError] naming source if not. An empty v is an error too.
// The [Cache] checks every token it receives; adapters check tokens from
// sources that are not a Cache right before sending them.
func ValidateToken(source, v string) error {
	if v == "" {
		return &TokenSyntaxError{Source: source, Found: "missing (the token is empty)"}
	}
	i := 0
	for i < len(v) && b64tokenChar(v[i]) {
		i++
	}
	if i == 0 && v[0] == '=' {
		return &TokenSyntaxError{Source: source, Offset: 0, Len: len(v), Found: "'=' (padding before any token character)"}
	}
	pad := i
	for i < len(v) && v[i] == '=' {
		i++
	}
	if i == len(v) {
		return nil
	}
	if pad < i {
		// Something follows the padding: the '=' is what is misplaced.
		i = pad
	}
	return &TokenSyntaxError{Source: source, Offset: i, Len: len(v), Found: describeByte(v[i])}
}

func b64tokenChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// describeByte names a byte without quoting control or non-ASCII bytes.
func describeByte(c byte) string {
	switch {
	case c == 0x01:
		return `a \x01 (the SASL/OAUTHBEARER field separator)`
	case c == '\r' || c == '\n':
		return "a line break"
	case c < 0x20 || c == 0x7f:
		return "a control character"
	case c == ' ':
		return "a space"
	case c >= 0x80:
		return "a non-ASCII byte"
	case c == '=':
		return "'=' (allowed only at the end, as padding)"
	}
	return fmt.Sprintf("%q", rune(c))
}
