package kafkagosasl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

// Unit tests of the mechanism's messages, with no broker: the round trips
// through the in-process broker and a real Apache Kafka broker are in the
// e2e module (e2e/integration/kafkagosasl), so that this module's go.mod
// needs nothing beyond kafka-go.

func TestNilSourceIsAnError(t *testing.T) {
	t.Parallel()
	_, err := kafkagosasl.Mechanism(nil, nil)
	require.ErrorContains(t, err, "kafkagosasl: Mechanism: the token source is nil")
}

func TestClientFirstMessageAndRejection(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln", Expiry: time.Now().Add(time.Hour),
		Extensions: map[string]string{"identityPoolId": "pool-7yzk"}}
	m, err := kafkagosasl.Mechanism(oauthbearer.StaticTokenSource(tok), nil)
	require.NoError(t, err)
	assert.Equal(t, "OAUTHBEARER", m.Name())
	sm, first, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "n,,\x01auth=Bearer "+tok.Value+"\x01identityPoolId=pool-7yzk\x01\x01", string(first))
	_, _, err = sm.Next(context.Background(), []byte(`{"status":"invalid_token"}`))
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "got %v", err)
	assert.Equal(t, "invalid_token", rej.Status)
}

func TestTokenThatBreaksFramingIsNeverSent(t *testing.T) {
	t.Parallel()
	bad := oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)}
	m, err := kafkagosasl.Mechanism(oauthbearer.StaticTokenSource(bad), nil)
	require.NoError(t, err)
	_, first, err := m.Start(context.Background())
	require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
	assert.Nil(t, first)
}
