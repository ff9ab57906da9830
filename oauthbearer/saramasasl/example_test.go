package saramasasl_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// A sarama client authenticating with tokens from any source. NewClient
// returns a broker's rejection as an *oauthbearer.RejectedError; errors
// sarama returns later go through the provider's Explain. (Compiled, not
// run: it needs a broker.)
func ExampleConfigure() {
	var src oauthbearer.TokenSource // for example from azure.NewManagedIdentity
	cfg := sarama.NewConfig()
	cfg.Net.TLS.Enable = true
	cfg.Producer.Return.Successes = true // a SyncProducer needs it
	provider, err := saramasasl.Configure(cfg, src, nil)
	if err != nil {
		log.Fatal(err) // the source is nil
	}
	client, err := saramasasl.NewClient([]string{"broker:9093"}, cfg)
	if err != nil {
		log.Fatal(err) // an *oauthbearer.RejectedError if the broker refused the token
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder("hello")}); err != nil {
		log.Fatal(provider.Explain(err))
	}
}

// NewTokenProvider alone, for a config set up by hand. sarama calls Token
// on every connection; the provider takes the token from the source.
func ExampleNewTokenProvider() {
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	})
	provider, err := saramasasl.NewTokenProvider(src, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := sarama.NewConfig()
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = provider

	tok, err := provider.Token()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Token != "", cfg.Validate() == nil)
	// Output: true true
}
