package saslmsg

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// fails before ClientFirst validated the token and escaped the
// authorization identity: both were appended as is.
func TestClientFirstFraming(t *testing.T) {
	msg, err := ClientFirst("src", oauthbearer.Token{Value: "abc.def.ghi"}, "user,a=admin")
	require.NoError(t, err)
	require.Equal(t, "n,a=user=2Ca=3Dadmin,\x01auth=Bearer abc.def.ghi\x01\x01", string(msg))

	_, err = ClientFirst("src", oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim"}, "")
	require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
	require.NotContains(t, err.Error(), "lkc-victim")

	_, err = ClientFirst("src", oauthbearer.Token{Value: "abc"}, "user\x01auth=Bearer x")
	require.ErrorContains(t, err, `"user\x01auth=Bearer x"`, "the identity is quoted escaped")
}
