package oauthbearer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestValidateToken(t *testing.T) {
	for _, ok := range []string{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
		"aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0",
		"abc~+/.-_", "YWJj==",
	} {
		require.NoError(t, oauthbearer.ValidateToken("test", ok), ok)
	}
	for v, found := range map[string]string{
		"tok\x01auth=Bearer other": `\x01`,
		"a,b":                      "','",
		"a b":                      "a space",
		"a\r\nX-Injected: 1":       "a line break",
		"=abc":                     "padding before",
		"ab=c":                     "allowed only at the end",
		"héllo":                    "non-ASCII",
		"":                         "empty",
	} {
		err := oauthbearer.ValidateToken("source-x", v)
		require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax, "%q", v)
		require.Contains(t, err.Error(), found)
		require.Contains(t, err.Error(), "source-x")
		require.Contains(t, err.Error(), "#token-syntax")
		if len(v) > 3 {
			require.NotContains(t, err.Error(), v)
		}
	}
}

// TestCacheRefusesTokenThatBreaksFraming: the cache checks every token's
// syntax once, so no adapter hands a field-injecting value to a Kafka
// client or an Authorization header.
// fails before Cache.check called ValidateToken: the cache handed the
// value out.
func TestCacheRefusesTokenThatBreaksFraming(t *testing.T) {
	const secretPart = "secret-part-of-the-value"
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: secretPart + "\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)})
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Name: "injecting source", MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := c.Token(ctx)
	require.True(t, errors.Is(err, oauthbearer.ErrTokenSyntax), "%v", err)
	require.True(t, tok.IsZero())
	require.Contains(t, err.Error(), "injecting source")
	require.False(t, strings.Contains(err.Error(), secretPart))
}

// TestCachePanicDoesNotQuoteTheValue: a source that panics with a value
// holding a token must not have the token printed in the error.
// fails before describePanic: the error quoted %v of the panic value.
func TestCachePanicDoesNotQuoteTheValue(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJlLXNlY3JldA"
	type holder struct{ Token string }
	for name, v := range map[string]any{
		"string": "refresh failed for " + jwt + "\n\x1b[2Jcleared",
		"error":  errors.New("bad token " + jwt),
		"struct": holder{Token: "opaque-secret-token-value"},
		"token":  oauthbearer.Token{Value: "opaque-secret-token-value", Expiry: time.Now()},
	} {
		t.Run(name, func(t *testing.T) {
			src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) { panic(v) })
			c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Name: "panicking source", MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Token(context.Background())
			require.ErrorContains(t, err, "panicking source panicked")
			for _, s := range []string{jwt, "eyJzdWIiOiJ3b3JrbG9hZCJ9", "opaque-secret-token-value", "\n", "\x1b"} {
				require.NotContains(t, err.Error(), s)
			}
		})
	}
}

// fails before Token's redacted form scrubbed the principal: a sub claim
// with a line break and an ANSI escape forged a log line.
func TestTokenPrincipalIsOneLine(t *testing.T) {
	tok := oauthbearer.Token{Value: "abc", Expiry: time.Unix(0, 0), Principal: "w\nlevel=ERROR msg=forged\x1b[2J"}
	s := tok.String()
	require.NotContains(t, s, "\n")
	require.NotContains(t, s, "\x1b")
	require.Contains(t, s, "level=ERROR msg=forged")
}
