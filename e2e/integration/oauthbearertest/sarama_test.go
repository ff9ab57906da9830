// Package oauthbearertest_test drives the test bench's broker with
// clients and clouds the bench module does not require (sarama here), so
// that a service adding the bench to its tests gains only the bench's own
// needs.
package oauthbearertest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

const brokerTestAud = "kafka-test"

var brokerTestExt = map[string]string{"logicalCluster": "lkc-123", "identityPoolId": "pool-abc"}

// brokerTestTokens is a sarama.AccessTokenProvider over an Issuer.
type brokerTestTokens struct {
	mint func() string
	ext  map[string]string
}

func (p brokerTestTokens) Token() (*sarama.AccessToken, error) {
	return &sarama.AccessToken{Token: p.mint(), Extensions: p.ext}, nil
}

func brokerTestSaramaConfig(mint func() string, ext map[string]string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = brokerTestTokens{mint: mint, ext: ext}
	cfg.Net.DialTimeout = 3 * time.Second
	cfg.Metadata.Retry.Max = 0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func newTestBroker(t *testing.T, opts *oauthbearertest.BrokerOptions) *oauthbearertest.Broker {
	t.Helper()
	b := oauthbearertest.NewBroker(t, opts)
	return b
}

func TestBrokerSaramaProduceConsume(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, &idptest.IssuerOptions{Algorithm: "ES384"})
	b := newTestBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud, Topics: []string{"payments"}})
	mint := func() string { return iss.Mint("svc-payments", brokerTestAud, 10*time.Minute, nil) }
	cfg := brokerTestSaramaConfig(mint, brokerTestExt)

	client, err := sarama.NewClient(b.Addrs(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	producer, err := sarama.NewSyncProducerFromClient(client)
	require.NoError(t, err)
	t.Cleanup(func() { _ = producer.Close() })
	for i := range 3 {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "payments", Value: sarama.StringEncoder(fmt.Sprint("p", i))})
		require.NoError(t, err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	require.NoError(t, err)
	t.Cleanup(func() { _ = consumer.Close() })
	pc, err := consumer.ConsumePartition("payments", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	for i := range 3 {
		select {
		case m := <-pc.Messages():
			assert.Equal(t, fmt.Sprint("p", i), string(m.Value))
		case err := <-pc.Errors():
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("timed out consuming")
		}
	}
	auths := b.Authentications()
	require.NotEmpty(t, auths)
	for _, a := range auths {
		assert.True(t, a.Accepted, "reason %s: %s", a.Reason, a.Detail)
		assert.Equal(t, "svc-payments", a.Principal)
		assert.Equal(t, brokerTestExt, a.Extensions)
	}
}

// sarama answers the broker's RFC 7628 error challenge with the four
// characters `\x01`, which Kafka parses as a (malformed) new message; the
// client sees an authentication failure and the broker records why.
func TestBrokerSaramaRejectsInvalidTokens(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	forger, _ := kafkatest.Impostors(t, iss)
	cases := map[string]struct {
		token  func() string
		reason string
	}{
		"forged signature": {func() string {
			now := time.Now()
			return forger.Sign(map[string]any{"iss": iss.IssuerURL, "sub": "svc", "aud": brokerTestAud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		}, string(jwtverify.BadSignature)},
		"wrong audience": {func() string { return iss.Mint("svc", "other-aud", time.Hour, nil) }, string(jwtverify.BadAudience)},
		"expired":        {func() string { return iss.Mint("svc", brokerTestAud, -2*time.Minute, nil) }, string(jwtverify.Expired)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newTestBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud})
			_, err := sarama.NewClient(b.Addrs(), brokerTestSaramaConfig(tc.token, nil))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER")
			auths := b.Authentications()
			require.NotEmpty(t, auths)
			for _, a := range auths {
				assert.False(t, a.Accepted)
				assert.Equal(t, tc.reason, a.Reason, "detail: %s", a.Detail)
			}
		})
	}
}

// sarama re-authenticates in place (KIP-368) across several short sessions.
func TestBrokerSaramaReauthentication(t *testing.T) {
	t.Parallel()
	const lifetime = 2 * time.Second
	iss := idptest.NewIssuer(t, nil)
	mint := func() string { return iss.Mint("svc-reauth", brokerTestAud, time.Hour, nil) }
	b := newTestBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud, MaxReauth: lifetime, Topics: []string{"r"}})
	producer, err := sarama.NewSyncProducer(b.Addrs(), brokerTestSaramaConfig(mint, brokerTestExt))
	require.NoError(t, err)
	t.Cleanup(func() { _ = producer.Close() })
	deadline := time.Now().Add(4500 * time.Millisecond)
	for time.Now().Before(deadline) {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "r", Value: sarama.StringEncoder("x")})
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
	}
	reauths := 0
	for _, a := range b.Authentications() {
		assert.True(t, a.Accepted, "reason %s: %s", a.Reason, a.Detail)
		if a.Reauth {
			reauths++
		}
	}
	assert.Positive(t, reauths, "re-authentications on open connections")
}
