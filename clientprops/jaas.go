package clientprops

import (
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// jaasEntry is the single login module entry of a sasl.jaas.config value.
type jaasEntry struct {
	// LoginModule is the module's class name.
	LoginModule string
	// ControlFlag is required, requisite, sufficient or optional.
	ControlFlag string
	// Options are the key=value options in order of appearance.
	Options []jaasOption
}

// jaasOption is one option of a JAAS entry.
type jaasOption struct {
	Key, Value string
	// glued: the name was written right after the previous token, with
	// no white space between (clientSecret="ab"cd=...). That is what a
	// quote or a semicolon inside an unquoted or badly quoted secret
	// leaves behind, so the name may be the tail of a secret and is never
	// quoted.
	glued bool
}

// Option returns the last value given for key (as Java's map does).
func (e jaasEntry) Option(key string) (string, bool) {
	for i := len(e.Options) - 1; i >= 0; i-- {
		if e.Options[i].Key == key {
			return e.Options[i].Value, true
		}
	}
	return "", false
}

// parseJAAS parses a sasl.jaas.config value as Kafka's JaasConfig does,
// with java.io.StreamTokenizer rules: a login module class, a control
// flag, options key=value where a value is a bare word or is quoted with
// "..." or '...' (backslash escapes \n \t \r \b \f \a \v, octal and \x for
// any other x), // and /* */ comments, and a terminating semicolon. Kafka
// clients accept exactly one login module. Bare numbers are not values in
// Kafka (they must be quoted), so they are rejected here too.
//
// Errors never quote option values, which may be secrets.
//
// Kafka clients accept exactly one login module, so nothing after the
// first entry's semicolon is parsed or quoted: what follows it is as
// likely the rest of a secret that held a semicolon as a second entry.
//
// It runs in time and memory linear in len(s).
func parseJAAS(s string) (jaasEntry, error) {
	t := &jaasTokenizer{s: []rune(s)}
	tok := t.next()
	if tok.kind == jaasEOF {
		return jaasEntry{}, fmt.Errorf("login module not specified; write <LoginModule> required <options>;")
	}
	e, err := parseJAASEntry(t, tok)
	if err != nil {
		return jaasEntry{}, err
	}
	if t.next().kind != jaasEOF {
		return jaasEntry{}, fmt.Errorf("text follows the semicolon that ends the login module entry (not quoted here: it may be the rest of a secret); " +
			"Kafka clients accept exactly one login module, and a value holding a ';' must be quoted")
	}
	return e, nil
}

func parseJAASEntry(t *jaasTokenizer, first jaasToken) (jaasEntry, error) {
	if first.kind != jaasWord && first.kind != jaasQuoted {
		return jaasEntry{}, fmt.Errorf("expected a login module class name, found %s", first.describe())
	}
	e := jaasEntry{LoginModule: first.text}
	flag := t.next()
	if flag.kind == jaasEOF {
		return jaasEntry{}, fmt.Errorf("login module control flag not specified after %s; add required", srvtext.Quote(e.LoginModule, 0))
	}
	switch strings.ToLower(flag.text) {
	case "required", "requisite", "sufficient", "optional":
		e.ControlFlag = strings.ToLower(flag.text)
	default:
		return jaasEntry{}, fmt.Errorf("invalid login module control flag %s; use required", flag.describe())
	}
	prevEnd := -1
	for {
		k := t.next()
		if k.kind == jaasEOF {
			return jaasEntry{}, fmt.Errorf("the JAAS entry is not terminated by a semicolon; end it with ;")
		}
		if k.kind == jaasChar && k.char == ';' {
			return e, nil
		}
		if k.kind != jaasWord && k.kind != jaasQuoted {
			return jaasEntry{}, fmt.Errorf("expected an option name, found %s", k.describe())
		}
		glued := k.start == prevEnd
		if eq := t.next(); eq.kind != jaasChar || eq.char != '=' {
			return jaasEntry{}, fmt.Errorf("value not specified for option %s; write name='value' and check the quotes", jaasName(jaasOption{Key: k.text, glued: glued}, len(e.Options), true))
		}
		v := t.next()
		if v.kind != jaasWord && v.kind != jaasQuoted {
			hint := ""
			if v.kind == jaasNumber {
				hint = " (Kafka does not accept a bare number: quote it)"
			}
			return jaasEntry{}, fmt.Errorf("value not specified for option %s%s", jaasName(jaasOption{Key: k.text, glued: glued}, len(e.Options), true), hint)
		}
		e.Options = append(e.Options, jaasOption{Key: k.text, Value: v.text, glued: glued})
		prevEnd = t.i
	}
}

type jaasKind int

const (
	jaasEOF jaasKind = iota
	jaasWord
	jaasQuoted
	jaasNumber
	jaasChar
)

type jaasToken struct {
	kind jaasKind
	text string
	char rune
	// start is the index of the token's first rune in the value.
	start int
}

func (t jaasToken) describe() string {
	switch t.kind {
	case jaasEOF:
		return "the end of the value"
	case jaasWord:
		return srvtext.Quote(t.text, 0)
	case jaasQuoted:
		return "a quoted string"
	case jaasNumber:
		return "a number"
	default:
		return srvtext.Quote(string(t.char), 0)
	}
}

// jaasTokenizer is the subset of java.io.StreamTokenizer that Kafka's
// JaasConfig configures: default syntax (letters and \u00A0-\u00FF are
// word characters, digits, '.' and '-' start numbers, ' and " quote, /
// starts a comment) plus word characters '-', '_' and '$' and both
// comment styles.
type jaasTokenizer struct {
	s []rune
	i int
}

func jaasIsAlpha(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || 0xA0 <= c && c <= 0xFF || c == '-' || c == '_' || c == '$'
}

func jaasIsDigit(c rune) bool { return '0' <= c && c <= '9' || c == '.' || c == '-' }

func (t *jaasTokenizer) peek(off int) rune {
	if t.i+off < len(t.s) {
		return t.s[t.i+off]
	}
	return -1
}

func (t *jaasTokenizer) next() jaasToken {
	for {
		for t.i < len(t.s) && t.s[t.i] <= ' ' {
			t.i++
		}
		if t.i >= len(t.s) {
			return jaasToken{kind: jaasEOF, start: t.i}
		}
		start := t.i
		if tok, ok := t.token(); ok {
			tok.start = start
			return tok
		}
	}
}

// token reads the token at t.i, which is not white space; ok is false
// for a comment, which it skips.
func (t *jaasTokenizer) token() (tok jaasToken, ok bool) {
	c := t.s[t.i]
	switch {
	case jaasIsDigit(c):
		// StreamTokenizer checks numbers before words: a leading '-'
		// not followed by a digit or '.' is an ordinary character.
		if c == '-' && !('0' <= t.peek(1) && t.peek(1) <= '9' || t.peek(1) == '.') {
			t.i++
			return jaasToken{kind: jaasChar, char: '-'}, true
		}
		t.i++
		for t.i < len(t.s) && ('0' <= t.s[t.i] && t.s[t.i] <= '9' || t.s[t.i] == '.') {
			t.i++
		}
		return jaasToken{kind: jaasNumber}, true
	case jaasIsAlpha(c):
		start := t.i
		for t.i < len(t.s) && (jaasIsAlpha(t.s[t.i]) || jaasIsDigit(t.s[t.i])) {
			t.i++
		}
		return jaasToken{kind: jaasWord, text: string(t.s[start:t.i])}, true
	case c == '"' || c == '\'':
		return t.quoted(c), true
	case c == '/':
		if t.peek(1) == '*' {
			t.i += 2
			for t.i < len(t.s) && !(t.s[t.i] == '*' && t.peek(1) == '/') {
				t.i++
			}
			t.i = min(t.i+2, len(t.s))
			return jaasToken{}, false
		}
		// "//" and a lone "/" (the default comment character) both
		// comment out the rest of the line.
		for t.i < len(t.s) && t.s[t.i] != '\n' && t.s[t.i] != '\r' {
			t.i++
		}
		return jaasToken{}, false
	default:
		t.i++
		return jaasToken{kind: jaasChar, char: c}, true
	}
}

// quoted reads a quoted string the way StreamTokenizer does: it ends at the
// matching quote or at the end of the line.
func (t *jaasTokenizer) quoted(q rune) jaasToken {
	t.i++
	var sb strings.Builder
	for t.i < len(t.s) {
		c := t.s[t.i]
		if c == q {
			t.i++
			break
		}
		if c == '\n' || c == '\r' {
			break
		}
		t.i++
		if c != '\\' || t.i >= len(t.s) {
			sb.WriteRune(c)
			continue
		}
		c = t.s[t.i]
		t.i++
		switch {
		case '0' <= c && c <= '7':
			v := c - '0'
			if d := t.peek(0); '0' <= d && d <= '7' {
				v = v*8 + (d - '0')
				t.i++
				if d2 := t.peek(0); c <= '3' && '0' <= d2 && d2 <= '7' {
					v = v*8 + (d2 - '0')
					t.i++
				}
			}
			sb.WriteRune(v)
		case c == 'a':
			sb.WriteByte(7)
		case c == 'b':
			sb.WriteByte('\b')
		case c == 'f':
			sb.WriteByte('\f')
		case c == 'n':
			sb.WriteByte('\n')
		case c == 'r':
			sb.WriteByte('\r')
		case c == 't':
			sb.WriteByte('\t')
		case c == 'v':
			sb.WriteByte('\v')
		default:
			sb.WriteRune(c)
		}
	}
	return jaasToken{kind: jaasQuoted, text: sb.String()}
}

// jaasName names an option in an error. Well-known names are quoted. A
// name written right after the previous value (see jaasOption.glued) is
// never quoted; nor, when strict (a parse error, where a broken quote is
// the likely cause), is any other name. Otherwise the name is quoted
// through srvtext.Quote with the entry's secrets removed.
func jaasName(o jaasOption, n int, strict bool, secrets ...string) string {
	switch k := o.Key; {
	case k == "clientId", k == "clientSecret", k == "scope", k == "useWorkloadIdentity",
		strings.HasPrefix(k, "extension_") && len(k) < 64 && !o.glued:
		return fmt.Sprintf("%q", k)
	case !strict && !o.glued:
		return srvtext.Quote(k, 0, secrets...)
	}
	return fmt.Sprintf("#%d (name withheld: it may be part of a secret)", n+1)
}
