package aws_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// aivenAudience is what an Aiven service's
// kafka.sasl_oauthbearer_expected_audience is typically set to: its host.
const aivenAudience = "kafka-orders-acme.a.aivencloud.com"

// TestWebIdentityThroughBroker has franz-go and sarama produce and consume
// through a broker configured like the Aiven cluster in the AWS outbound
// identity federation guide: JWKS at the account issuer's
// /.well-known/jwks.json, expected issuer the issuer URL, expected audience
// the service's host, principal from "sub", which STS sets to the role ARN.
func TestWebIdentityThroughBroker(t *testing.T) {
	t.Parallel()
	clients := map[string]func(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource){
		"franz-go": franzRoundTrip,
		"sarama":   saramaRoundTrip,
	}
	for clientName, roundTrip := range clients {
		for _, alg := range []string{awsid.RS256, awsid.ES384} {
			t.Run(fmt.Sprintf("%s/%s", clientName, alg), func(t *testing.T) {
				t.Parallel()
				sts := newSTS(t, &oauthbearertest.STSOptions{AllowedAudiences: []string{aivenAudience}, MaxDurationSeconds: 3600})
				broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
					JWKSURL:          sts.JWKSURL(),
					ExpectedIssuer:   sts.IssuerURL(),
					ExpectedAudience: aivenAudience,
					SubClaimName:     "sub",
					Topics:           []string{"my-topic"},
					NumBrokers:       2,
				})
				src := newWebIdentity(t, sts, func(o *awsid.WebIdentityOptions) {
					o.Audiences = []string{aivenAudience}
					o.SigningAlgorithm = alg
					o.Duration = time.Hour // the guide's --duration-seconds 3600
				})

				roundTrip(t, broker.Addrs(), "my-topic", src)

				auths := broker.Authentications()
				require.NotEmpty(t, auths)
				for _, a := range auths {
					require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
					assert.Equal(t, testRole, a.Principal, "the Kafka principal is the role ARN (User:<arn> in ACLs)")
					assert.Equal(t, sts.IssuerURL(), a.Claims["iss"])
					assert.Empty(t, a.Extensions)
				}
				calls := sts.Calls()
				require.Len(t, calls, 1, "every connection shares one token")
				assert.Equal(t, []string{aivenAudience}, calls[0].Audiences)
				assert.Equal(t, alg, calls[0].SigningAlgorithm)
				assert.Equal(t, 3600, calls[0].DurationSeconds)
			})
		}
	}
}

func roundTripCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// franzRoundTrip produces three records with franz-go and consumes them
// back.
func franzRoundTrip(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource) {
	t.Helper()
	c, want := roundTripCtx(t), []string{"a", "b", "c"}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addrs...),
		kgo.SASL(franzsasl.Mechanism(src, nil)),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	require.NoError(t, err)
	defer cl.Close()
	for _, v := range want {
		require.NoError(t, cl.ProduceSync(c, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr())
	}
	var got []string
	for len(got) < len(want) {
		fs := cl.PollFetches(c)
		require.NoError(t, fs.Err0(), "consumed only %v", got)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	assert.Equal(t, want, got)
}

// saramaRoundTrip produces three records with sarama and consumes them
// back from partition 0.
func saramaRoundTrip(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource) {
	t.Helper()
	want := []string{"a", "b", "c"}
	cfg := sarama.NewConfig()
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = saramasasl.NewTokenProvider(src, &saramasasl.Options{Timeout: 10 * time.Second})
	cfg.Producer.Return.Successes = true
	client, err := sarama.NewClient(addrs, cfg)
	require.NoError(t, saramasasl.Explain(err))
	defer client.Close()

	producer, err := sarama.NewSyncProducerFromClient(client)
	require.NoError(t, err)
	for _, v := range want {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(v)})
		require.NoError(t, err)
	}
	require.NoError(t, producer.Close())

	consumer, err := sarama.NewConsumerFromClient(client)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	done := roundTripCtx(t).Done()
	for len(got) < len(want) {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case err := <-pc.Errors():
			require.NoError(t, err)
		case <-done:
			t.Fatalf("consumed only %v", got)
		}
	}
	assert.Equal(t, want, got)
}
