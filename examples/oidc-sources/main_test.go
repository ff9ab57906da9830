package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOIDCSourcesRunOffline runs the example offline with each source: the
// brokers accept every authentication, as the projected token's service
// account or as the key's client, the identity provider issues one token
// for the jwt-bearer run (the cache serves every connection), and neither
// a token nor the key is printed.
func TestOIDCSourcesRunOffline(t *testing.T) {
	for source, want := range map[string]struct{ principal, issued string }{
		"token-file": {"system:serviceaccount:orders:writer", ""},
		"jwt-bearer": {"orders-svc", "the OAuth server issued 1 token\n"},
	} {
		t.Run(source, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			require.NoError(t, run(ctx, &out, config{source: source, offline: true, topic: "orders"}), out.String())
			s := out.String()
			t.Log("\n" + s)
			assert.Regexp(t, source+`: produced and consumed a record at partition \d offset 0`, s)
			m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on .*, as principal (\S+)`).FindStringSubmatch(s)
			require.NotNil(t, m, "the brokers' summary is printed")
			assert.Equal(t, m[2], m[1], "every authentication was accepted")
			assert.NotEqual(t, "0", m[1])
			assert.Equal(t, want.principal, m[3])
			if want.issued != "" {
				assert.Contains(t, s, want.issued)
			}
			assert.NotContains(t, s, "eyJ", "no token or assertion is printed")
			assert.NotContains(t, s, "PRIVATE KEY")
		})
	}
}

// TestOIDCSourcesErrors: a wrong -source and a missing token file are
// errors that name the setting.
func TestOIDCSourcesErrors(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{source: "kerberos"})
	require.ErrorContains(t, err, `-source is "kerberos"`)
	err = run(context.Background(), &bytes.Buffer{}, config{source: "token-file"})
	require.ErrorContains(t, err, "tokenfile: tokenfile.Options.Path is empty")
}
