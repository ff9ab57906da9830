package saramasasl_test

import (
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// TestTokenCannotInjectSASLFields: sarama frames the value it is given as
// is, so the provider refuses a value that would add SASL fields; the
// broker never sees the message.
// fails before saramasasl called oauthbearer.ValidateToken: Token handed
// the value to sarama without an error.
func TestTokenCannotInjectSASLFields(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	good := iss.Mint("workload-1", "kafka", time.Hour, nil)
	p := must(saramasasl.NewTokenProvider(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: good + "\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)}), nil))
	_, err := p.Token()
	require.True(t, errors.Is(err, oauthbearer.ErrTokenSyntax), "%v", err)
	require.NotContains(t, err.Error(), good)

	cl, err := sarama.NewClient(broker.Addrs(), saramaConfig(p))
	if err == nil {
		_ = cl.Close()
	}
	require.Error(t, err)
	for _, a := range broker.Authentications() {
		require.NotContains(t, a.Extensions, "logicalCluster", "the injected extension reached the broker")
	}
}
