package azure_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// azureIdentity is one Azure token source wired to emulators whose tokens
// are signed by the issuer the broker trusts.
type azureIdentity struct {
	src       *oauthbearer.Cache
	audience  string     // the broker's expected.audience
	principal string     // the token's sub: the identity's object ID
	fetches   func() int // tokens the identity provider issued
}

// azureSources start each identity the issue names: managed identity
// through the IMDS emulator and AKS workload identity through the Entra
// emulator with a federated token file.
func azureSources() map[string]func(t *testing.T, iss *oauthbearertest.Issuer) azureIdentity {
	return map[string]func(t *testing.T, iss *oauthbearertest.Issuer) azureIdentity{
		"managed identity": func(t *testing.T, iss *oauthbearertest.Issuer) azureIdentity {
			imds := oauthbearertest.NewIMDS(t, &oauthbearertest.IMDSOptions{Signer: iss, TokenLifetime: time.Hour})
			// azidentity caches managed-identity tokens process-wide by
			// resource: a target of its own keeps this test's tokens
			// coming from this test's IMDS.
			target := uniqueTarget(t)
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
				Target: target, RequireV2: true,
				ClientOptions: azcore.ClientOptions{Transport: imds.Client(), Retry: fastRetry},
			})
			require.NoError(t, err)
			closeCache(t, src)
			return azureIdentity{src: src, audience: target, principal: imds.SystemAssigned().ObjectID,
				fetches: func() int { return len(imds.Issued()) }}
		},
		"workload identity": func(t *testing.T, iss *oauthbearertest.Issuer) azureIdentity {
			b := newWIBench(t, &oauthbearertest.EntraOptions{Signer: iss})
			o := b.options(b.env())
			o.RequireV2 = true
			src, err := azure.NewWorkloadIdentity(o)
			require.NoError(t, err)
			closeCache(t, src)
			return azureIdentity{src: src, audience: "api://kafka", principal: wiObject,
				fetches: func() int { return len(b.entra.Issued()) }}
		},
	}
}

// kafkaClients produce three records to topic through the broker and
// consume them back, each with a real client library.
func kafkaClients() map[string]func(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource) {
	return map[string]func(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource){
		"franz-go": franzRoundTrip,
		"sarama":   saramaRoundTrip,
	}
}

func roundTripValues() []string { return []string{"a", "b", "c"} }

func franzRoundTrip(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource) {
	t.Helper()
	c, want := ctx(t), roundTripValues()
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

func saramaRoundTrip(t *testing.T, addrs []string, topic string, src oauthbearer.TokenSource) {
	t.Helper()
	want := roundTripValues()
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
	done := ctx(t).Done()
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

// TestAzureSourcesThroughBroker has franz-go and sarama produce and consume
// through a broker that validates every token against the JWKS of the
// issuer standing in for Microsoft Entra ID, with each Azure source, with
// and without Confluent Cloud's extensions.
func TestAzureSourcesThroughBroker(t *testing.T) {
	t.Parallel()
	extensionCases := map[string]*confluent.Extensions{
		"confluent extensions": {LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool-7yzk"},
		"no extensions":        nil,
	}
	for srcName, start := range azureSources() {
		for clientName, roundTrip := range kafkaClients() {
			for extName, ext := range extensionCases {
				t.Run(fmt.Sprintf("%s/%s/%s", srcName, clientName, extName), func(t *testing.T) {
					t.Parallel()
					iss := oauthbearertest.NewIssuer(t, nil)
					id := start(t, iss)
					broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
						Issuer: iss, ExpectedAudience: id.audience, RejectAudienceWhenUnset: true,
						Topics: []string{"orders"}, NumBrokers: 2,
					})

					var src oauthbearer.TokenSource = id.src
					want := map[string]string{}
					if ext != nil {
						withExt, err := confluent.WithExtensions(id.src, *ext)
						require.NoError(t, err)
						src, want = withExt, ext.Map()
					}

					roundTrip(t, broker.Addrs(), "orders", src)

					auths := broker.Authentications()
					require.NotEmpty(t, auths)
					for _, a := range auths {
						require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
						assert.Equal(t, id.principal, a.Principal)
						assert.Equal(t, want, a.Extensions)
						assert.Equal(t, "2.0", a.Claims["ver"], "Confluent Cloud needs v2 tokens")
					}
					assert.Equal(t, 1, id.fetches(), "every connection shares one token")
				})
			}
		}
	}
}
