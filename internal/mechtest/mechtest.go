// Package mechtest holds the unit tests every SASL/OAUTHBEARER mechanism
// adapter whose Kafka client drives SASL itself (franzsasl, kafkagosasl)
// runs against its mechanism, with no broker: each adapter supplies only
// the calls that map its client's interface onto [Mechanism].
package mechtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Mechanism is an adapter's mechanism as the tests drive it.
type Mechanism interface {
	// Name is the SASL mechanism's name.
	Name() string
	// Start begins an authentication: the client first message, and the
	// function that takes the broker's answer to it.
	Start(ctx context.Context) (first []byte, reply func(answer []byte) (done bool, resp []byte, err error), err error)
}

// Run runs the tests on the adapter named pkg, whose constructor is
// newMech (wrapping its Mechanism function).
func Run(t *testing.T, pkg string, newMech func(src oauthbearer.TokenSource) (Mechanism, error)) {
	t.Run("NilSourceIsAnError", func(t *testing.T) {
		t.Parallel()
		_, err := newMech(nil)
		require.ErrorContains(t, err, pkg+": Mechanism: the token source is nil")
	})
	const value = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln"
	t.Run("ClientFirstMessageAndSuccess", func(t *testing.T) {
		t.Parallel()
		tok := oauthbearer.Token{Value: value, Expiry: time.Now().Add(time.Hour),
			Extensions: map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-7yzk"}}
		m, err := newMech(oauthbearer.StaticTokenSource(tok))
		require.NoError(t, err)
		assert.Equal(t, "OAUTHBEARER", m.Name())
		first, reply, err := m.Start(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "n,,\x01auth=Bearer "+value+"\x01identityPoolId=pool-7yzk\x01logicalCluster=lkc-abc123\x01\x01", string(first))

		// An empty server message is the broker's success.
		done, resp, err := reply(nil)
		require.NoError(t, err)
		assert.True(t, done)
		assert.Empty(t, resp)
	})
	t.Run("RejectionIsARejectedError", func(t *testing.T) {
		t.Parallel()
		m, err := newMech(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: value, Expiry: time.Now().Add(time.Hour)}))
		require.NoError(t, err)
		_, reply, err := m.Start(context.Background())
		require.NoError(t, err)
		done, _, err := reply([]byte(`{"status":"invalid_token"}`))
		assert.False(t, done)
		var rej *oauthbearer.RejectedError
		require.True(t, errors.As(err, &rej), "got %v", err)
		assert.Equal(t, "invalid_token", rej.Status)
	})
	t.Run("TokenThatBreaksFramingIsNeverSent", func(t *testing.T) {
		t.Parallel()
		bad := oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)}
		m, err := newMech(oauthbearer.StaticTokenSource(bad))
		require.NoError(t, err)
		first, _, err := m.Start(context.Background())
		require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
		assert.Nil(t, first)
		assert.NotContains(t, err.Error(), "lkc-victim")
	})
}
