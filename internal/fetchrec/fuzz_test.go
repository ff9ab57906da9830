package fetchrec_test

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
)

// FuzzScrub checks the boundary scrub against any server text and any
// recorded value: no recorded value of 4 bytes or more survives in any
// encoding a server echoes it in, whatever surrounds it, and the result
// has no control characters.
func FuzzScrub(f *testing.F) {
	f.Add("oauth2: cannot fetch token: 400\nResponse: {\"error\":\"%s\"}", "opaque-subject-token-value-7")
	f.Add("%s%s", "abcd")
	f.Add("\x1b[31m%s\x1b[0m", "p@ss word+basic")
	f.Add("x=%s&y=%s", "é\u2028secret")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if len(secret) < 4 || strings.Contains(secret, "[redacted]") || !printable(secret) {
			t.Skip()
		}
		r := fetchrec.New()
		r.Add(secret)
		for _, form := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret))} {
			in := strings.ReplaceAll(text, "%s", form) + " " + form
			got := fetchrec.Error(errors.New(in), r).Error()
			if strings.Contains(got, secret) && !strings.Contains(text, secret) {
				t.Fatalf("%q survived in %q", secret, got)
			}
			for _, c := range got {
				if unicode.IsControl(c) {
					t.Fatalf("control character %U in %q", c, got)
				}
			}
		}
	})
}

// printable: the scrub removes control characters first, so a secret
// made of them is not compared as sent.
func printable(s string) bool {
	for _, c := range s {
		if unicode.IsControl(c) || c == '\uFFFD' || unicode.Is(unicode.Bidi_Control, c) || c == '\u2028' || c == '\u2029' {
			return false
		}
	}
	return true
}
