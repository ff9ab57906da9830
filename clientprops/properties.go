package clientprops

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/value pair of a Java properties file.
type Property struct {
	// Key and Value are as java.util.Properties reads them: escapes
	// decoded, continuations joined, the separator and the white space
	// around it removed.
	Key, Value string
	// Line is the 1-based line on which the property starts.
	Line int
}

// parseProperties parses data exactly as java.util.Properties.load does
// with an InputStream, which is how Kafka's tools read client.properties:
//
//   - bytes are ISO-8859-1 characters;
//   - lines end with \n, \r or \r\n; a line ending in an odd number of
//     backslashes continues on the next line, whose leading white space
//     (space, tab, form feed) is dropped;
//   - a line whose first non-blank character is # or ! is a comment (a
//     continued line is never a comment);
//   - the key ends at the first unescaped =, : or white space; white space
//     and then one = or : and more white space separate it from the value;
//   - \t, \n, \r, \f and \uXXXX are escapes; a backslash before any other
//     character stands for that character; a malformed \u is an error.
//
// Properties are returned in file order, duplicates included (the last
// one wins in Java).
//
// It runs in time and memory linear in len(data) (see
// TestParsePropertiesBoundedWork).
func parseProperties(data []byte) ([]Property, error) {
	props, _, err := parsePropertiesCounted(data)
	return props, err
}

// parsePropertiesCounted is parseProperties that also returns how many
// byte inspections the line reader made, for the test that bounds them.
func parsePropertiesCounted(data []byte) ([]Property, int, error) {
	r := &propReader{s: data, line: 1}
	var out []Property
	for {
		logical, line, ok := r.readLine()
		if !ok {
			return out, r.steps, nil
		}
		p, err := splitProperty(logical, line)
		if err != nil {
			return nil, r.steps, err
		}
		out = append(out, p)
	}
}

// propReader implements Properties.LineReader: it returns logical lines
// with comments and blank lines removed and continuations joined, escapes
// still in place. Bytes are ISO-8859-1 characters, converted to UTF-8
// only when a key or value is unescaped.
type propReader struct {
	s     []byte
	i     int
	line  int // line number of s[i]
	buf   []byte
	steps int // bytes inspected: linear in len(s)
}

func isPropSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func (r *propReader) readLine() (logical []byte, startLine int, ok bool) {
	for r.i < len(r.s) {
		// Skip leading white space and empty lines of a new logical line.
		for r.i < len(r.s) && (isPropSpace(r.s[r.i]) || r.s[r.i] == '\n' || r.s[r.i] == '\r') {
			r.steps++
			r.newlineAt()
		}
		if r.i >= len(r.s) {
			break
		}
		startLine = r.line
		if c := r.s[r.i]; c == '#' || c == '!' {
			// Comment: skip to the end of the natural line; a trailing
			// backslash does not continue it.
			r.i += r.lineEnd()
			continue
		}
		// Lines without a continuation are returned without copying.
		r.buf = r.buf[:0]
		joined := false
		for {
			// Read one natural line.
			n := r.lineEnd()
			seg := r.s[r.i : r.i+n]
			r.i += n
			// Count its trailing backslashes (Java's LineReader counts
			// within the natural line only).
			k := 0
			for k < len(seg) && seg[len(seg)-1-k] == '\\' {
				r.steps++
				k++
			}
			if k%2 == 0 {
				if r.i < len(r.s) {
					r.newlineAt()
				}
				if !joined {
					return seg, startLine, true
				}
				r.buf = append(r.buf, seg...)
				return r.buf, startLine, true
			}
			r.buf = append(r.buf, seg[:len(seg)-1]...) // drop the continuation backslash
			joined = true
			if r.i >= len(r.s) {
				// A continuation at end of input: Java drops the backslash.
				return r.buf, startLine, true
			}
			r.newlineAt()
			// Leading white space of a continuation line is dropped.
			for r.i < len(r.s) && isPropSpace(r.s[r.i]) {
				r.steps++
				r.i++
			}
		}
	}
	return nil, 0, false
}

// lineEnd returns the length of the natural line at s[i], without its
// line break.
func (r *propReader) lineEnd() int {
	n := bytes.IndexAny(r.s[r.i:], "\r\n")
	if n < 0 {
		n = len(r.s) - r.i
	}
	r.steps += n
	return n
}

// newlineAt consumes s[i], counting lines for \n, \r and \r\n.
func (r *propReader) newlineAt() {
	switch r.s[r.i] {
	case '\r':
		r.line++
		if r.i+1 < len(r.s) && r.s[r.i+1] == '\n' {
			r.i++
		}
	case '\n':
		r.line++
	}
	r.i++
}

// splitProperty splits a logical line into key and value as
// Properties.load0 does, then unescapes both.
func splitProperty(l []byte, line int) (Property, error) {
	keyLen, valueStart := 0, len(l)
	hasSep, backslash := false, false
	for keyLen < len(l) {
		c := l[keyLen]
		if (c == '=' || c == ':') && !backslash {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if isPropSpace(c) && !backslash {
			valueStart = keyLen + 1
			break
		}
		if c == '\\' {
			backslash = !backslash
		} else {
			backslash = false
		}
		keyLen++
	}
	for valueStart < len(l) {
		c := l[valueStart]
		if !isPropSpace(c) {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
		valueStart++
	}
	key, err := unescapeProp(l[:keyLen])
	if err != nil {
		return Property{}, fmt.Errorf("clientprops: properties line %d: key: %w", line, err)
	}
	val, err := unescapeProp(l[min(valueStart, len(l)):])
	if err != nil {
		return Property{}, fmt.Errorf("clientprops: properties line %d: value of %s: %w", line, shownKey(key), err)
	}
	return Property{Key: key, Value: val, Line: line}, nil
}

// unescapeProp is Properties.loadConvert.
func unescapeProp(in []byte) (string, error) {
	var sb strings.Builder
	sb.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			sb.WriteRune(rune(c)) // ISO-8859-1
			continue
		}
		i++
		if i >= len(in) {
			// Only reachable for a key ending in a lone backslash before a
			// separator, which Java keeps as nothing.
			break
		}
		c = in[i]
		switch c {
		case 'u':
			if i+4 >= len(in) {
				return "", fmt.Errorf(`malformed \uxxxx escape; write four hex digits after \u`)
			}
			v, ok := hex4(in[i+1 : i+5])
			if !ok {
				return "", fmt.Errorf(`malformed \uxxxx escape; write four hex digits after \u`)
			}
			i += 4
			// Java strings are UTF-16: a high surrogate escape followed
			// by a low one is one character.
			if utf16.IsSurrogate(v) && i+6 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
				if lo, ok := hex4(in[i+3 : i+7]); ok {
					if r := utf16.DecodeRune(v, lo); r != utf8.RuneError {
						sb.WriteRune(r)
						i += 6
						continue
					}
				}
			}
			sb.WriteRune(v)
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case 'n':
			sb.WriteByte('\n')
		case 'f':
			sb.WriteByte('\f')
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String(), nil
}

func hex4(h []byte) (rune, bool) {
	var v rune
	for _, b := range h {
		c := rune(b)
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}
