package srvtext

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secret = "cc-secret-0123456789/abc+def ghij"
	jwt    = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ3b3JrbG9hZC0xIiwiYXVkIjoia2Fma2EifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMDEyMzQ1Njc4OQ"
	// session is shaped like an AWS session token: long, mixed-case base64.
	session = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx7Kf9qM3nLw0Zp8TYd1vR2sXa"
)

// An identity provider that echoes the posted form in error_description
// (fails before srvtext existed: confluent quoted the description as is).
func TestFieldRemovesEchoedValues(t *testing.T) {
	form := url.Values{"client_secret": {secret}, "subject_token": {jwt}, "grant_type": {"client_credentials"}}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("client-1:"+secret))
	for name, echo := range map[string]string{
		"raw":         "bad request: client_secret=" + secret + " subject_token=" + jwt,
		"form":        "could not parse " + form.Encode(),
		"path escape": "bad value " + url.PathEscape(secret),
		"header":      "Authorization: " + basic,
		"jwt unsent":  "the token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. is invalid",
		"session":     "The security token included in the request is invalid: " + session,
	} {
		t.Run(name, func(t *testing.T) {
			got := Field(echo, secret, jwt, basic)
			for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), jwt, "eyJzdWIiOiJ4In0", session, base64.StdEncoding.EncodeToString([]byte("client-1:" + secret))} {
				require.NotContains(t, got, s)
			}
			require.Contains(t, got, Redacted)
		})
	}
}

func TestFieldKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{
		"AADSTS700016: Application with identifier '0000aaaa-0000-4000-8000-000000000000' was not found in the directory 'contoso'.",
		"/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg-kafka/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"pool pool-7yzk is not allowed for https://login.example.com/tenant/v2.0",
	} {
		require.Equal(t, s, Field(s, "x", "ab"), "short sent values are not removed, and ordinary text stays")
	}
}

// fails before srvtext existed: a 900 KB error code became a 900 KB error.
func TestFieldClipsAndStripsControls(t *testing.T) {
	huge := strings.Repeat("é", 450<<10) // 900 KB
	got := Field(huge)
	require.LessOrEqual(t, len(got), MaxField)
	require.True(t, utf8.ValidString(got))
	require.True(t, strings.HasSuffix(got, "..."))

	got = Field("line1\nline2\r\n\x1b[31mred\x1b[0m\x00\x07\u202etxt\u2028end\xff\x1b]0;title\x07")
	require.Equal(t, "line1 line2  redtxt end", got)

	require.Equal(t, "ab", Clip("ab", 2))
	require.Equal(t, "...", Clip("abcdef", 3))
	require.Equal(t, "a...", Clip("aé€", 5))
}

// A secret straddling the clip point is removed before the cut, so no
// prefix of it survives.
func TestFieldScrubsBeforeClipping(t *testing.T) {
	s := strings.Repeat("x", MaxField-10) + secret
	require.NotContains(t, Field(s, secret), secret[:8])
}

func FuzzField(f *testing.F) {
	f.Add("error "+secret+" \x1b[2J", secret)
	f.Add(jwt, "")
	f.Fuzz(func(t *testing.T, s, sent string) {
		got := Field(s, sent)
		require.LessOrEqual(t, len(got), MaxField)
		require.True(t, utf8.ValidString(got))
		require.False(t, strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }))
		if len(sent) >= minSent && !strings.ContainsAny(sent, "[]") && !strings.ContainsFunc(sent, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
			require.NotContains(t, Scrub(s, sent), sent)
		}
	})
}

func TestURL(t *testing.T) {
	require.Equal(t, "https://sts.example.com/token", URL("https://user:hunter2-password@sts.example.com/token?client_secret=x#frag"))
	require.Equal(t, "<not a URL>", URL("https://a b\x7f/%zz"))
}

// TestScrubRemovesCredentialFields: an SDK error quoting a raw reply body
// ("raw message was: {"ACCess_token":"0000000000000000"}") carried the
// server's access token, which is neither something we sent nor
// JWT-shaped. Found by FuzzWorkloadIdentityReply (azure); fails before
// credRE.
func TestScrubRemovesCredentialFields(t *testing.T) {
	for in, secret := range map[string]string{
		`json decode error: raw message was: {"ACCess_token":"0000000000000000"}`: "0000000000000000",
		`{"access_token": "opaque-token-value", "expires_in": 3600}`:              "opaque-token-value",
		`grant_type=client_credentials&client_secret=hunter2hunter2&scope=kafka`:  "hunter2hunter2",
		`{"id_token":"abc\"def-ghi","refresh_token":"rt-1234567890"}`:             "rt-1234567890",
		`reply {"Token":"tok_abcdef123456"} refused`:                              "tok_abcdef123456",
		`assertion=aaaaaaaa.bbbbbbbb.cccccccc`:                                    "aaaaaaaa",
	} {
		got := Scrub(in)
		if strings.Contains(got, secret) {
			t.Errorf("Scrub(%q) = %q, still contains %q", in, got, secret)
		}
	}
	// Other fields stay readable.
	got := Scrub(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","expires_in":3600}`)
	for _, keep := range []string{"invalid_client", "AADSTS7000215", "expires_in", "3600"} {
		if !strings.Contains(got, keep) {
			t.Errorf("Scrub dropped %q: %q", keep, got)
		}
	}
}

// Prose that merely mentions a token keeps its meaning.
func TestScrubKeepsProseAboutTokens(t *testing.T) {
	in := "failed to get token: connection refused; password: see the docs"
	if got := Scrub(in); got != in {
		t.Errorf("Scrub(%q) = %q", in, got)
	}
}

// TestScrubLongText: past scanLimit the text is cut before the pattern
// scans, but what was sent is removed from the whole text first, and a
// key-like run cut in two by the limit is dropped rather than quoted in
// part.
func TestScrubLongText(t *testing.T) {
	key := "Zq8XvB3nLp0RtY7uWc2KdF5hJm9Gs4Ae1Ni6Ok" // key-like, 38 chars: alone it is below the run length
	pad := strings.Repeat("x ", (scanLimit-20)/2)
	in := pad + key + key + " tail " + secret
	got := Scrub(in, secret)
	if strings.Contains(got, secret) {
		t.Fatal("a sent value past the limit was quoted")
	}
	if strings.Contains(got, key[:10]) {
		t.Fatalf("part of a run cut by the limit was quoted: %q", got[len(got)-80:])
	}
	if !strings.HasSuffix(got, " ...") {
		t.Fatalf("a cut text ends with ' ...': %q", got[len(got)-40:])
	}
	// A sent value straddling the limit is removed whole before the cut.
	in = strings.Repeat("y ", (scanLimit-10)/2) + secret
	if got := Scrub(in, secret); strings.Contains(got, secret[:8]) {
		t.Fatalf("part of a sent value straddling the limit was quoted: %q", got[len(got)-40:])
	}
}

// TestScrubKeepsCamelCasePaths: a path or identifier in CamelCase with
// digits (Go's test temp dirs, a project directory) is not key material;
// the boundary scrub runs over the module's own messages, which quote
// paths as the user wrote them.
func TestScrubKeepsCamelCasePaths(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/tmp/TestWorkloadIdentityBlankTokenFile2235026441/001/token", "/home/u/MyProjectCredentialsDirectory2024/key.json",
		"/tmp/TestWorkloadIdentityFIFOSwappedInDoesNotPinTheCache3503522379/001/token"} {
		assert.Equal(t, p, Scrub(p))
	}
	key := "Zm9vYmFyYmF6cXV4UXVVeFo1Nzg5MEFCQ0RFRkdISUpLTE1O"
	assert.Equal(t, Redacted, Scrub(key))
}
