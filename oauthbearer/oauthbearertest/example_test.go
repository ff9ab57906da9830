package oauthbearertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// A Kafka broker that accepts only JWTs signed by a local issuer, used by
// a franz-go client with a token minted for the broker's audience. In a
// test, pass the test's *testing.T where this passes t.
func ExampleNewBroker() {
	t := &exampleTB{}
	defer t.cleanup()
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"},
	})

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker.Addrs()...),
		kgo.SASL(oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			return oauth.Auth{Token: iss.Mint("svc-orders", "kafka", time.Hour, nil)}, nil
		})),
	)
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("hello")}).FirstErr(); err != nil {
		panic(err)
	}
	a := broker.Authentications()[0]
	fmt.Println(a.Accepted, a.Principal)
	// Output: true svc-orders
}

// A Verdict hook plays a provider's own refusal after the broker's checks:
// here Confluent Cloud's, for a client that sends no logicalCluster
// extension.
func ExampleBrokerOptions_verdict() {
	t := &exampleTB{}
	defer t.cleanup()
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka",
		Verdict: func(a oauthbearertest.Authentication) *oauthbearertest.Rejection {
			if a.Extensions["logicalCluster"] == "" {
				return &oauthbearertest.Rejection{Status: "JWT_PROCESSING_FAILED", Reason: "no_logical_cluster"}
			}
			return nil
		},
	})

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker.Addrs()...),
		kgo.SASL(oauth.Auth{Token: iss.Mint("svc-orders", "kafka", time.Hour, nil)}.AsMechanism()),
		kgo.RequestRetries(0),
	)
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = cl.Ping(ctx)
	a := broker.Authentications()[0]
	fmt.Println(a.Accepted, a.Reason)
	// Output: false no_logical_cluster
}

// exampleTB is the idptest.TB of an Example, which has no *testing.T:
// Fatalf panics with the message, and cleanup runs what was registered,
// last first, as a test's end does.
type exampleTB struct{ cleanups []func() }

func (*exampleTB) Helper() {}

func (*exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (e *exampleTB) Cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

func (e *exampleTB) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}
