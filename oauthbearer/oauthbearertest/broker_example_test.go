package oauthbearertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// A Kafka broker that accepts only JWTs signed by a local issuer, used by
// a franz-go client with a token minted for the broker's audience.
func ExampleStartBroker() {
	iss, err := oauthbearertest.StartIssuer(nil)
	if err != nil {
		panic(err)
	}
	defer iss.Close()
	broker, err := oauthbearertest.StartBroker(&oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"},
	})
	if err != nil {
		panic(err)
	}
	defer broker.Close()

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
	fmt.Println(a.Accepted, a.Principal, broker.Rejections())
	// Output: true svc-orders 0
}
