package saramasasl_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// Unit tests of the provider, with no broker: the round trips through the
// in-process broker and a real Apache Kafka broker are in the e2e module
// (e2e/integration/saramasasl), so that this module's go.mod needs nothing
// beyond sarama.

func TestNilSourceIsAnError(t *testing.T) {
	t.Parallel()
	_, err := saramasasl.NewTokenProvider(nil, nil)
	require.ErrorContains(t, err, "saramasasl: NewTokenProvider: the token source is nil")
}

func TestTokenCarriesExtensions(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln", Expiry: time.Now().Add(time.Hour),
		Extensions: map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-7yzk"}}
	p, err := saramasasl.NewTokenProvider(oauthbearer.StaticTokenSource(tok), nil)
	require.NoError(t, err)
	at, err := p.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.Value, at.Token)
	assert.Equal(t, tok.Extensions, at.Extensions)
}

func TestTokenThatBreaksFramingIsNeverHandedOver(t *testing.T) {
	t.Parallel()
	bad := oauthbearer.Token{Value: "abc\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)}
	p, err := saramasasl.NewTokenProvider(oauthbearer.StaticTokenSource(bad), nil)
	require.NoError(t, err)
	at, err := p.Token()
	require.ErrorIs(t, err, oauthbearer.ErrTokenSyntax)
	assert.Nil(t, at)
	assert.NotContains(t, err.Error(), "lkc-victim")
}
