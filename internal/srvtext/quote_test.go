package srvtext

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
)

func TestQuoteDropsURLSecretsEvenWhenTheURLDoesNotParse(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"unexpanded host": {"https://svc:hunter2-password@${IDP_HOST}/token?client_secret=abcdef123456#frag", `"https://${IDP_HOST}/token"`},
		"parses":          {"https://user:pw-0123456789@idp.example.com/oauth2/token?sig=0123456789", `"https://idp.example.com/oauth2/token"`},
		"slash in pw":     {"https://user:pa/ss-0123456789@idp.example.com/token", `"https://idp.example.com/token"`},
		"two URLs":        {"http://a:b-secret@x/y?q=1, https://c:d-secret@z/w", `"http://x/y https://z/w"`},
		"no scheme":       {"://user:pw@host", `"://user:pw@host"`},
		"plain":           {"SASL_SSL", `"SASL_SSL"`},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Quote(tc.in, 0))
		})
	}
}

func TestQuoteRemovesSecretsAndEscapesControls(t *testing.T) {
	got := Quote("x="+secret+" y="+jwt+" password=opensesame-1234 \x1b[31m\n\u202e", 0, secret)
	for _, s := range []string{secret, jwt[:20], "opensesame", "\x1b", "\n", "\u202e"} {
		assert.NotContains(t, got, s)
	}
	assert.Contains(t, got, Redacted)
	assert.Contains(t, got, `\x1b[31m\n\u202e`, "controls are shown escaped")
}

// The point of interest stays in view however long the value, and the
// cuts are marked.
func TestQuoteClipsAroundThePointOfInterest(t *testing.T) {
	s := strings.Repeat("a ", 10<<10) + "${VAR}" + strings.Repeat(" b", 10<<10)
	got := Quote(s, strings.Index(s, "${"))
	assert.Contains(t, got, "${VAR}")
	assert.True(t, strings.HasPrefix(got, `..."a `) && strings.HasSuffix(got, ` b"...`), got)
	assert.LessOrEqual(t, len(got), MaxQuote+8)

	// A secret reaching from outside the scanned window into what is
	// shown is still removed whole.
	long := strings.Repeat("s", 5<<10) + "TAIL"
	got = Quote(long+"${X}", len(long), long)
	assert.NotContains(t, got, "TAIL")
	assert.NotContains(t, got, "sss")
}

// Quote's work is linear: a 1 MiB value holding 100,000 distinct secrets
// (a file full of passwords, quoted in full) costs a bounded number of
// bytes allocated per input byte, and each secret is looked for only near
// what is shown, not in the whole value.
func TestQuoteBoundedWork(t *testing.T) {
	var b strings.Builder
	var secrets []string
	for i := 0; b.Len() < 1<<20; i++ {
		v := fmt.Sprintf("v%07d", i)
		secrets = append(secrets, v, v) // duplicates are looked for once
		b.WriteString("k=" + v + " ")
	}
	s := b.String()
	in := len(s) + 2*len(secrets)*8
	var got string
	alloc := leakcheck.Allocated(func() { got = Quote(s, len(s)/2, secrets...) })
	assert.Less(t, alloc, uint64(16*in), "bytes allocated for %d input bytes", in)
	assert.Contains(t, got, Redacted)
	assert.NotContains(t, got, "v0")
}

// FuzzQuote: whatever the input, Quote's result is one line of valid,
// printable UTF-8 of bounded size that strconv.Unquote reads back (once
// the cut marks are removed); it never contains a secret passed to it,
// nor the user info or query of a URL in the input.
func FuzzQuote(f *testing.F) {
	f.Add("https://${HOST}/token", 9, secret, "pw-0123", "client_secret=abc")
	f.Add(strings.Repeat("a", 3000)+jwt, 3000, "", "", "")
	f.Add("\x1b[2J\xff\u202e", 1, "abcd", "p@ss", "#frag")
	f.Fuzz(func(t *testing.T, s string, at int, sent, pass, query string) {
		in := s
		url := ""
		if pass != "" || query != "" {
			url = "https://user:" + pass + "@idp.example.com/token?" + query
			in = s + " " + url + " " + s
		}
		got := Quote(in, at, sent)
		require.LessOrEqual(t, len(got), 10*MaxQuote+8)
		require.True(t, utf8.ValidString(got))
		require.False(t, strings.ContainsFunc(got, func(r rune) bool { return !unicode.IsPrint(r) }), "unescaped %q", got)
		body := strings.TrimSuffix(strings.TrimPrefix(got, "..."), "...")
		_, err := strconv.Unquote(body)
		require.NoError(t, err, "%s", got)
		clean := func(v string) bool {
			return len(v) >= minSent && !strings.ContainsAny(v, `[]"\`) && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r >= 0x7f })
		}
		if clean(sent) {
			require.NotContains(t, got, sent)
		}
		// A URL ends at white space, a quote or a control character: a
		// password or query holding one is not one URL any more.
		ends := func(v string) bool {
			return strings.ContainsFunc(v, func(r rune) bool { return r < 0x80 && isURLEnd(byte(r)) })
		}
		if url != "" && !ends(s) && !ends(pass) && !ends(query) {
			for _, v := range []string{pass, query} {
				if clean(v) && !strings.Contains(s, v) && !strings.Contains("https://user:@idp.example.com/token?", v) {
					require.NotContains(t, got, v, "URL user info or query quoted")
				}
			}
		}
	})
}
