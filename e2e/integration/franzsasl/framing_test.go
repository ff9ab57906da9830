package franzsasl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestTokenCannotInjectSASLFields: a user-supplied source (not a Cache)
// whose value carries "\x01logicalCluster=lkc-victim" would, sent as is,
// add an extension the broker believes came from the client. franz-go gets
// a clear error naming the source and the broker never sees the message.
// fails before oauthbearer.ValidateToken was called by saslmsg.ClientFirst:
// the broker accepted the login with logicalCluster=lkc-victim.
func TestTokenCannotInjectSASLFields(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	good := iss.Mint("workload-1", "kafka", time.Hour, nil)
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: good + "\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)})
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	require.Error(t, err)
	require.True(t, errors.Is(err, oauthbearer.ErrTokenSyntax), "%v", err)
	require.Contains(t, err.Error(), "the token source for franzsasl")
	require.NotContains(t, err.Error(), good)
	require.Empty(t, broker.Authentications(), "the message was sent")
}

// TestAuthorizationIDIsEscaped: ',' and '=' in the authorization identity
// are sent as =2C and =3D (RFC 5801), so they cannot end the GS2 header.
// fails before saslmsg.EscapeAuthzID: the broker refused the malformed
// message.
func TestAuthorizationIDIsEscaped(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a,b=c", "kafka", time.Hour, nil), Expiry: time.Now().Add(time.Hour)})
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, &franzsasl.Options{AuthorizationID: "a,b=c"}))),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = cl.Ping(ctx)
	auths := broker.Authentications()
	require.NotEmpty(t, auths)
	require.Equal(t, "a=2Cb=3Dc", auths[0].AuthorizationID, "the GS2 header carries the escaped identity")
}
