// A franz-go service on Azure managed identity, as a user writes it after
// `go get .../oauthbearer/franzsasl .../azure` (release rehearsal).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

// produce sends one record to topic on the brokers with a token of the
// machine's managed identity for target (IMDS reached through hc; nil: the
// default client).
func produce(ctx context.Context, brokers []string, tls bool, target, topic string, hc *http.Client) error {
	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: target, HTTPClient: hc})
	if err != nil {
		return err
	}
	defer src.Close()
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.SASL(mech)}
	if tls {
		opts = append(opts, kgo.DialTLS())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("hello")}).FirstErr()
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produce(ctx, []string{os.Getenv("KAFKA_BOOTSTRAP")}, true, os.Getenv("KAFKA_APP_ID"), "orders", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
