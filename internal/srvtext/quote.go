package srvtext

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Quote is the one function through which a message quotes user input: a
// setting's value as a file or an option wrote it, a JAAS option name or
// value, a URL, an unexpanded ${...} variable, a path. It lives here, with
// [Scrub], because it needs the same detectors (JWTs, key-like runs,
// credential fields, echoed values) and a second copy of them would drift.
//
// What the user wrote is quoted as written except that:
//
//   - every URL in it (scheme://...) loses its user info, query and
//     fragment, which may hold a password, a client secret or a signature,
//     as [URL] drops them; it is done lexically, so a URL that does not
//     parse (an unexpanded ${HOST}) is treated the same;
//   - each value in secrets (as written, and form-, percent- and
//     base64-encoded) is replaced with [Redacted], and so is anything
//     JWT-shaped, a long key-like base64 run, and the value of a
//     credential-named field (password=..., "client_secret":...);
//   - the result is clipped to [MaxQuote] bytes around byte at of s (the
//     character the message is about, such as the "$" of "${"), so the
//     interesting part stays in view; a cut is marked with "..." outside
//     the quotes;
//   - it is quoted as by strconv.Quote, so control characters, ANSI
//     escapes, line breaks, bidirectional overrides and invalid UTF-8 are
//     shown escaped and cannot forge a log line.
//
// Removing secrets comes before clipping, so a secret cut at the clip
// point cannot survive in part. Quote's work is linear in len(s) plus the
// length of the secrets: only a window of a few KiB around at is scanned
// for patterns, and a secret is looked for only where it could reach into
// that window.
func Quote(s string, at int, secrets ...string) string {
	at = min(max(at, 0), len(s))
	// URLs first, over the whole text: a URL's scheme may lie far before
	// the window and its query inside it.
	t, tat := apply(s, at, urlSpans(s, nil))
	// The window the rest looks at, in t.
	lo, hi := max(tat-quoteScan, 0), min(tat+quoteScan, len(t))
	for lo > 0 && !utf8.RuneStart(t[lo]) {
		lo++
	}
	for hi < len(t) && !utf8.RuneStart(t[hi]) {
		hi--
	}
	var spans []span
	seen := make(map[string]bool, len(secrets))
	for _, v := range secrets {
		if len(v) < minSent || seen[v] {
			continue
		}
		seen[v] = true
		for _, form := range encodings(v) {
			// An occurrence that overlaps [lo, hi) lies within len(form)
			// of it.
			from, to := max(lo-len(form)+1, 0), min(hi+len(form)-1, len(t))
			for i := from; i < to; {
				j := strings.Index(t[i:to], form)
				if j < 0 {
					break
				}
				spans = append(spans, span{i + j, i + j + len(form), Redacted})
				i += j + len(form)
			}
		}
	}
	// A token-like run cut by the window's edges is dropped whole, so no
	// partial JWT or key survives the patterns below.
	const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=.-"
	if lo > 0 && strings.IndexByte(tokenChars, t[lo-1]) >= 0 {
		n := len(t[lo:hi]) - len(strings.TrimLeft(t[lo:hi], tokenChars))
		spans = append(spans, span{lo, lo + n, ""})
	}
	if hi < len(t) && strings.IndexByte(tokenChars, t[hi]) >= 0 {
		n := len(t[lo:hi]) - len(strings.TrimRight(t[lo:hi], tokenChars))
		spans = append(spans, span{hi - n, hi, ""})
	}
	w := t[lo:hi]
	for _, m := range credRE.FindAllStringSubmatchIndex(w, -1) {
		spans = append(spans, span{lo + m[4], lo + m[5], Redacted})
	}
	for _, m := range jwtRE.FindAllStringIndex(w, -1) {
		spans = append(spans, span{lo + m[0], lo + m[1], Redacted})
	}
	for _, m := range b64RE.FindAllStringIndex(w, -1) {
		if secretLike(w[m[0]:m[1]]) {
			spans = append(spans, span{lo + m[0], lo + m[1], Redacted})
		}
	}
	spans = append(spans, span{0, lo, ""}, span{hi, len(t), ""})
	u, uat := apply(t, tat, spans)
	return clipAround(u, uat, lo > 0, hi < len(t))
}

// MaxQuote is the most bytes of user input [Quote] shows (before
// escaping): enough to recognise a value, short enough that a pasted blob
// does not become a huge error or log line.
const MaxQuote = 120

// quoteScan is how far on each side of the point of interest [Quote]
// looks for secrets: far beyond what it shows, so that a secret starting
// outside what is shown is still recognised whole.
const quoteScan = 1 << 10

// span is a byte range of a text to replace with repl.
type span struct {
	lo, hi int
	repl   string
}

// apply replaces the spans of s (in any order, possibly overlapping:
// overlapping spans merge, and the merged span shows [Redacted] if any of
// them did) and returns the result and where byte at of s went.
func apply(s string, at int, spans []span) (string, int) {
	if len(spans) == 0 {
		return s, at
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	var b strings.Builder
	b.Grow(len(s))
	pos, nat := 0, -1
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].lo < cur.hi; i++ {
			cur.hi = max(cur.hi, spans[i].hi)
			if spans[i].repl != "" {
				cur.repl = spans[i].repl
			}
		}
		if cur.lo < pos { // inside an earlier span
			cur.lo = pos
		}
		if cur.hi <= cur.lo {
			continue
		}
		if nat < 0 && at < cur.hi {
			if at < cur.lo {
				nat = b.Len() + at - pos
			} else {
				nat = b.Len() + len(s[pos:cur.lo])
			}
		}
		b.WriteString(s[pos:cur.lo])
		b.WriteString(cur.repl)
		pos = cur.hi
	}
	if nat < 0 {
		nat = b.Len() + at - pos
	}
	b.WriteString(s[pos:])
	return b.String(), nat
}

// urlSpans appends to spans the user info, query and fragment of every
// URL in s ("scheme://..." up to white space or a quote), found
// lexically. The user info ends at the last '@' before the query, so that
// a password with an unescaped '/' is dropped too.
func urlSpans(s string, spans []span) []span {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		j += i
		k := j
		for k > i && j-k < 32 && isSchemeChar(s[k-1]) {
			k--
		}
		start, end := j+3, j+3
		for end < len(s) && !isURLEnd(s[end]) {
			end++
		}
		if k == j { // no scheme: not a URL
			i = start
			continue
		}
		q := end
		if n := strings.IndexAny(s[start:end], "?#"); n >= 0 {
			q = start + n
			spans = append(spans, span{q, end, ""})
		}
		if n := strings.LastIndexByte(s[start:q], '@'); n >= 0 {
			spans = append(spans, span{start, start + n + 1, ""})
		}
		i = max(end, start)
	}
	return spans
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isURLEnd(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>'
}

// clipAround quotes at most MaxQuote bytes of s around byte at, marking
// a cut with "..." outside the quotes; front and back say that s itself
// was cut from a longer text.
func clipAround(s string, at int, front, back bool) string {
	lo, hi := 0, len(s)
	if len(s) > MaxQuote {
		lo = min(max(at-MaxQuote/3, 0), len(s)-MaxQuote)
		hi = lo + MaxQuote
		for lo > 0 && !utf8.RuneStart(s[lo]) {
			lo++
		}
		for hi < len(s) && !utf8.RuneStart(s[hi]) {
			hi--
		}
	}
	q := strconv.Quote(s[lo:hi])
	if front || lo > 0 {
		q = "..." + q
	}
	if back || hi < len(s) {
		q += "..."
	}
	return q
}

// WithoutURLSecrets returns s with the user info, query and fragment of
// every URL in it removed as [Quote] removes them, but neither quoted nor
// clipped: for encoders that print a configuration holding URLs.
func WithoutURLSecrets(s string) string {
	t, _ := apply(s, 0, urlSpans(s, nil))
	return t
}
