// A segmentio/kafka-go service on Google Cloud Managed Service for Apache
// Kafka, as a user writes it after `go get .../oauthbearer/kafkagosasl
// .../gcp` (release rehearsal).
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"

	"github.com/segmentio/kafka-go"

	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	src, err := gcp.NewManagedKafka(ctx, nil)
	if err != nil {
		return err
	}
	defer src.Close()
	mech, err := kafkagosasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	w := &kafka.Writer{
		Addr:      kafka.TCP(os.Getenv("KAFKA_BOOTSTRAP")),
		Topic:     "orders",
		Transport: &kafka.Transport{SASL: mech, TLS: &tls.Config{}},
	}
	defer w.Close()
	return w.WriteMessages(ctx, kafka.Message{Value: []byte("hello")})
}
