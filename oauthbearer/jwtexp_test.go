package oauthbearer

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClampToJWTExp(t *testing.T) {
	t.Parallel()
	jwt := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	exp := time.Unix(1_900_000_000, 0)
	later, earlier := exp.Add(5*time.Minute), exp.Add(-5*time.Minute)
	for name, tc := range map[string]struct {
		value  string
		expiry time.Time
		want   time.Time
	}{
		"expires_in later than exp: exp wins":                     {jwt(`{"exp":1900000000}`), later, exp},
		"expires_in earlier than exp: kept":                       {jwt(`{"exp":1900000000}`), earlier, earlier},
		"no expiry from the source: exp used":                     {jwt(`{"exp":1900000000}`), time.Time{}, exp},
		"fractional exp":                                          {jwt(`{"exp":1900000000.5}`), later, exp},
		"no exp claim":                                            {jwt(`{"sub":"x"}`), later, later},
		"exp as a numeric string: used (only ever more cautious)": {jwt(`{"exp":"1900000000"}`), later, exp},
		"negative exp":                                            {jwt(`{"exp":-1}`), later, later},
		"not a JWT (MSK's signed URL)":                            {"aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8", later, later},
		"two dots only in the payload position":                   {"a.b", later, later},
		"four parts (JWE-like)":                                   {"a.b.c.d", later, later},
		"payload not base64":                                      {"a.!!!.c", later, later},
		"payload not JSON":                                        {"a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", later, later},
	} {
		got := clampToJWTExp(Token{Value: tc.value, Expiry: tc.expiry})
		assert.True(t, tc.want.Equal(got.Expiry), "%s: got %s, want %s", name, got.Expiry, tc.want)
	}
}

// FuzzClampToJWTExp feeds arbitrary token values (the cache reads the exp
// of whatever a source returns) and checks the clamp only ever moves an
// expiry earlier, never touches anything else, and never panics.
func FuzzClampToJWTExp(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2ln", int64(1_900_000_300))
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjEuOWU5fQ.c2ln", int64(0))
	f.Add("a.eyJleHAiOiIxMjMifQ.c", int64(1))
	f.Add("a..c", int64(-1))
	f.Add("opaque-token", int64(1_900_000_000))
	f.Fuzz(func(t *testing.T, value string, expiry int64) {
		in := Token{Value: value, Principal: "p", Extensions: map[string]string{"k": "v"}}
		if expiry != 0 {
			in.Expiry = time.Unix(expiry%(1<<40), 0)
		}
		out := clampToJWTExp(in)
		if out.Value != in.Value || out.Principal != in.Principal || out.Extensions["k"] != "v" {
			t.Fatalf("the clamp changed more than the expiry")
		}
		if out.Expiry.Equal(in.Expiry) {
			return
		}
		exp, ok := jwtExp(value)
		if !ok || !out.Expiry.Equal(exp) {
			t.Fatalf("expiry changed to %s without a readable exp", out.Expiry)
		}
		if !in.Expiry.IsZero() && out.Expiry.After(in.Expiry) {
			t.Fatalf("expiry moved later: %s -> %s", in.Expiry, out.Expiry)
		}
	})
}
