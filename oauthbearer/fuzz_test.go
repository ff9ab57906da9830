package oauthbearer_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/saslmsg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// FuzzValidateExtensions checks the SASL extension rules against the
// message the adapters put on the wire: an extension set that validates
// survives a round trip through the RFC 7628 client-first message
// unchanged, and one that does not is reported as an *ExtensionError
// naming the first bad key in sorted order.
func FuzzValidateExtensions(f *testing.F) {
	f.Add("logicalCluster", "lkc-abc123", "identityPoolId", "pool-XyZ,pool-2")
	f.Add("note", "a b\tc\r\nd", "k", "=x=")
	f.Add("auth", "Bearer x", "ok", "y")
	f.Add("cluster1", "x", "aa9", "x")
	f.Add("", "x", "k", "")
	f.Add("k", "a\x01b", "kk", "café")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ext := map[string]string{k1: v1, k2: v2}
		err := oauthbearer.ValidateExtensions(ext)
		if err != nil {
			var ee *oauthbearer.ExtensionError
			require.True(t, errors.As(err, &ee), "error %T is not an *ExtensionError", err)
			require.Contains(t, ext, ee.Key)
			require.Equal(t, ext[ee.Key], ee.Value)
			require.True(t, strings.HasPrefix(err.Error(), "oauthbearer: "), "error %q lacks the package prefix", err)
			// Deterministic: the first bad key in sorted order.
			for k, v := range ext {
				if k < ee.Key {
					require.NoError(t, oauthbearer.ValidateExtensions(map[string]string{k: v}), "key %q sorts before the reported %q but is bad too", k, ee.Key)
				}
			}
			_, werr := oauthbearer.WithExtensions(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x"}), ext)
			require.Error(t, werr, "WithExtensions accepted what ValidateExtensions refused")
			return
		}
		for k, v := range ext {
			require.NotEqual(t, "auth", k)
			require.NotEmpty(t, k)
			require.NotEmpty(t, v)
		}
		tok := oauthbearer.Token{Value: "eyJhbGciOiJub25lIn0.e30.", Extensions: ext}
		require.NoError(t, saslmsg.CheckToken("fuzz", oauthbearer.StaticTokenSource(tok), tok))
		msg := saslmsg.ClientFirst(tok, "")
		require.Equal(t, ext, parseClientFirst(t, msg), "extensions did not survive the client-first message")
	})
}

// parseClientFirst reads the key=value pairs back out of an RFC 7628
// client-first message, as a broker does.
func parseClientFirst(t *testing.T, msg []byte) map[string]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(msg, []byte("n,,\x01")), "message %q has a bad GS2 header", msg)
	require.True(t, bytes.HasSuffix(msg, []byte("\x01\x01")), "message %q is not terminated", msg)
	body := msg[len("n,,\x01") : len(msg)-2]
	got := map[string]string{}
	for _, kv := range strings.Split(string(body), "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, "pair %q has no =", kv)
		if k == "auth" {
			continue
		}
		_, dup := got[k]
		require.False(t, dup, "key %q twice", k)
		got[k] = v
	}
	return got
}
