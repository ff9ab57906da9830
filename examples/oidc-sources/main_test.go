package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
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
			s := offlinetest.Run(t, config{source: source, offline: true, topic: "orders"}.run)
			assert.Regexp(t, `produced and consumed "authenticated by `+source+`" at partition \d offset 0`, s)
			offlinetest.AllAccepted(t, s, want.principal, "")
			if want.issued != "" {
				assert.Contains(t, s, want.issued)
			}
			assert.NotContains(t, s, "PRIVATE KEY")
		})
	}
}

// TestOIDCSourcesErrors: a wrong -source and a missing token file are
// errors that name the setting.
func TestOIDCSourcesErrors(t *testing.T) {
	offlinetest.Refuses(t, config{source: "kerberos"}.run, `-source is "kerberos"`)
	offlinetest.Refuses(t, config{source: "token-file"}.run, "tokenfile: tokenfile.Options.Path is empty")
}
