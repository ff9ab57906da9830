package fetchrec_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
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

// FuzzSecrets checks what the gate records of any request: it never
// panics, and a value sent under a credential key (form body or query)
// is always recorded.
func FuzzSecrets(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "client_secret=abcd1234&scope=x", "Basic Y2xpZW50OnBAc3M=", "client_secret")
	f.Add("application/json", `{"assertion":"abcdefgh","n":1}`, "Bearer x", "assertion")
	f.Add("text/plain", "%%%", "", "k")
	f.Fuzz(func(t *testing.T, ct, body, auth, key string) {
		req, err := http.NewRequest(http.MethodPost, "https://idp.example/token", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", ct)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		got := fetchrec.Secrets(req, []byte(body))
		if !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		for k, vs := range form {
			if k != key || !strings.Contains(strings.ToLower(k), "secret") {
				continue
			}
			for _, v := range vs {
				if !slices.Contains(got, v) {
					t.Fatalf("%s=%q not recorded: %q", k, v, got)
				}
			}
		}
	})
}
