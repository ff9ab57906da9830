package franzsasl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

// Unit tests of the mechanism's messages, with no broker: the round trips
// through the in-process broker and a real Apache Kafka broker are in the
// e2e module (e2e/integration/franzsasl), so that this module's go.mod
// needs nothing beyond franz-go.

func TestNilSourceIsAnError(t *testing.T) {
	t.Parallel()
	_, err := franzsasl.Mechanism(nil, nil)
	require.ErrorContains(t, err, "franzsasl: Mechanism: the token source is nil")
}

func TestClientFirstMessage(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln", Expiry: time.Now().Add(time.Hour),
		Extensions: map[string]string{"logicalCluster": "lkc-abc123"}}
	m, err := franzsasl.Mechanism(oauthbearer.StaticTokenSource(tok), nil)
	require.NoError(t, err)
	assert.Equal(t, "OAUTHBEARER", m.Name())
	sess, first, err := m.Authenticate(context.Background(), "broker-1:9092")
	require.NoError(t, err)
	assert.Equal(t, "n,,\x01auth=Bearer "+tok.Value+"\x01logicalCluster=lkc-abc123\x01\x01", string(first))

	// An empty server message is the broker's success.
	done, resp, err := sess.Challenge(nil)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Empty(t, resp)
}

func TestRejectionIsARejectedError(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln", Expiry: time.Now().Add(time.Hour)}
	m, err := franzsasl.Mechanism(oauthbearer.StaticTokenSource(tok), nil)
	require.NoError(t, err)
	sess, _, err := m.Authenticate(context.Background(), "broker-1:9092")
	require.NoError(t, err)
	_, _, err = sess.Challenge([]byte(`{"status":"invalid_token"}`))
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "got %v", err)
	assert.Equal(t, "invalid_token", rej.Status)
}

func TestTokenThatBreaksFramingIsNeverSent(t *testing.T) {
	t.Parallel()
	bad := oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)}
	m, err := franzsasl.Mechanism(oauthbearer.StaticTokenSource(bad), nil)
	require.NoError(t, err)
	_, first, err := m.Authenticate(context.Background(), "broker-1:9092")
	require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
	assert.Nil(t, first)
	assert.NotContains(t, err.Error(), "lkc-victim")
}
