package saslmsg

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// fails before the token was checked and the authorization identity
// escaped: both were appended as is.
func TestClientFirstFraming(t *testing.T) {
	authz, err := EscapeAuthzID("user,a=admin")
	require.NoError(t, err)
	tok := oauthbearer.Token{Value: "abc.def.ghi"}
	require.NoError(t, CheckToken("src", oauthbearer.StaticTokenSource(tok), tok))
	require.Equal(t, "n,a=user=2Ca=3Dadmin,\x01auth=Bearer abc.def.ghi\x01\x01", string(ClientFirst(tok, authz)))

	tok = oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim"}
	err = CheckToken("src", oauthbearer.StaticTokenSource(tok), tok)
	require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
	require.NotContains(t, err.Error(), "lkc-victim")

	// A bad identity is refused when the adapter is built, not on each
	// connection.
	_, err = NewClient("src", oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "abc"}), 0, "user\x01auth=Bearer x", nil)
	require.ErrorContains(t, err, `"user\x01auth=Bearer x"`, "the identity is quoted escaped")
}
