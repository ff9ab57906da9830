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
