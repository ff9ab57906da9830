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
