// Package srvtext makes text that a server sent (an identity provider's
// error_description, an SDK error quoting a reply, a broker's challenge) safe
// to quote in an error or a log record.
//
// Identity providers often echo what they were sent: the posted form with
// its client secret, subject token or client assertion, or the request's
// Authorization header. Servers also send arbitrarily long fields and
// control characters (log injection, ANSI escapes). [Field] removes every
// value the caller sent in that request, anything JWT-shaped and long
// base64 runs, strips control characters and clips the result, in that
// order, so a secret cut at the clip point cannot survive in part.
package srvtext

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxField is the most bytes [Field] returns: enough for any real error
// description, small enough that a hostile server cannot blow up an error
// message or a log line.
const MaxField = 512

// Redacted replaces every removed value.
const Redacted = "[redacted]"

// scanLimit bounds the text the pattern scans (JWTs, key-like runs,
// credential fields) look at. Everything a caller quotes is clipped far
// shorter (MaxField, or an SDK message limit), and a reply body may be up
// to a megabyte: scanning all of it cost up to a second of CPU per failed
// fetch under -race. What was sent is removed from the whole text first,
// so the cut can never leave part of our own secret behind.
const scanLimit = 64 << 10

// minSent is the shortest sent value that is removed: shorter values are
// not secrets (no IdP issues a 3-byte secret) and removing them would
// garble the text.
const minSent = 4

var (
	// jwtRE matches a JWS or JWE in compact form: a base64url JSON header
	// ("ey...") and two to four more base64url segments.
	jwtRE = regexp.MustCompile(`ey[A-Za-z0-9_-]{6,}(\.[A-Za-z0-9_-]*){2,4}`)
	// b64RE matches candidate base64 / base64url runs; [secretLike]
	// decides whether one is key material or ordinary text.
	b64RE = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)
	// ansiRE matches ANSI escape sequences: CSI (ESC [ ... final byte),
	// OSC (ESC ] ... BEL or ST) and two-byte escapes.
	// credRE finds the value of a credential-named field in JSON ("key":)
	// or form (key=) text a server quotes back, such as a raw reply body inside an SDK's
	// error ("raw message was: {...}"): the server's own access token is
	// not something we sent, and need not look like a JWT. Keys match
	// case-insensitively, as encoding/json and MSAL do.
	credRE = regexp.MustCompile(`(?i)("(?:access_token|id_token|refresh_token|client_secret|client_assertion|subject_token|assertion|token|password)"\s*:\s*|\b(?:access_token|id_token|refresh_token|client_secret|client_assertion|subject_token|assertion|token|password)=)("(?:[^"\\]|\\.)*"|[^\s&,;}\]]+)`)
	ansiRE = regexp.MustCompile("\x1b(\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(\x07|\x1b\\\\)?|[@-_]?)|\u009b[0-?]*[ -/]*[@-~]")
)

// Field returns s scrubbed of the values in sent and of secret-looking
// runs, without control characters, clipped to [MaxField] bytes of valid
// UTF-8.
func Field(s string, sent ...string) string {
	return Clip(Scrub(s, sent...), MaxField)
}

// Scrub removes from s every value in sent (as sent, and as it reads
// form-encoded, percent-encoded or base64-encoded, the forms a server
// echoes a request in), anything JWT-shaped, long base64 runs that look
// like key material, ANSI escape sequences and control characters. Tabs
// and line breaks become spaces, so the result is one line. It does not
// clip: use it for messages built from several fields, [Field] for one.
func Scrub(s string, sent ...string) string {
	// Controls go first: removing them later could join two halves of a
	// secret that a server split with an escape sequence.
	s = ansiRE.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			return ' '
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
	for _, v := range sent {
		if len(v) < minSent {
			continue
		}
		for _, form := range encodings(v) {
			s = strings.ReplaceAll(s, form, Redacted)
		}
	}
	if len(s) > scanLimit {
		// Drop a token-like run cut in two by the limit, so no partial
		// JWT or key survives the patterns below.
		s = strings.TrimRight(strings.ToValidUTF8(s[:scanLimit], ""), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=.-") + " ..."
	}
	s = credRE.ReplaceAllString(s, "${1}"+Redacted)
	s = jwtRE.ReplaceAllString(s, Redacted)
	return b64RE.ReplaceAllStringFunc(s, func(run string) string {
		if secretLike(run) {
			return Redacted
		}
		return run
	})
}

// encodings lists the forms in which a server may echo v.
func encodings(v string) []string {
	out := []string{v}
	add := func(e string) {
		if e != v {
			out = append(out, e)
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	add(base64.StdEncoding.EncodeToString([]byte(v)))
	add(base64.RawURLEncoding.EncodeToString([]byte(v)))
	return out
}

// secretLike reports whether a base64-alphabet run looks like key
// material rather than text: mixed case and digits, and a long stretch
// without '/' or '-' (paths and GUID lists have short segments; random
// base64 has a separator only once in 32 characters on average). Random
// base64 has about as many upper- as lower-case letters; a run where
// either case is under a fifth of the letters is an identifier or a path
// in CamelCase ("/tmp/TestFiles1174675381/token"), not a key.
func secretLike(run string) bool {
	if absPath(run) {
		return false
	}
	var upper, lower, digit bool
	var nUpper, nLower int
	longest, cur := 0, 0
	for i := 0; i < len(run); i++ {
		c := run[i]
		switch {
		case 'A' <= c && c <= 'Z':
			upper = true
			nUpper++
		case 'a' <= c && c <= 'z':
			lower = true
			nLower++
		case '0' <= c && c <= '9':
			digit = true
		}
		if c == '/' || c == '-' {
			cur = 0
			continue
		}
		cur++
		longest = max(longest, cur)
	}
	letters := nUpper + nLower
	return upper && lower && digit && longest >= 20 && 5*nUpper >= letters && 5*nLower >= letters
}

// absPath reports a run that reads as an absolute path quoted by the
// module ("/tmp/TestX1234/001/token", "/var/run/secrets/..."): a '/',
// a first directory of lower-case letters or digits, and another '/'.
// Random base64 starts that way about once in ten million runs.
func absPath(run string) bool {
	if len(run) < 3 || run[0] != '/' {
		return false
	}
	seg, _, ok := strings.Cut(run[1:], "/")
	if !ok || seg == "" || len(seg) > 16 {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Clip cuts s to at most n bytes of valid UTF-8, marking a cut with "...".
func Clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	const mark = "..."
	if n <= len(mark) {
		return mark[:max(n, 0)]
	}
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// URL returns raw as it may be quoted: without user info (which may hold
// a password), query and fragment (which may hold a secret or a token),
// scrubbed and clipped. A value that does not parse is quoted as
// "<not a URL>" rather than in part.
func URL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "<not a URL>"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return Field(u.String())
}
