package kafkagosasl_test

import (
	"context"
	"crypto/tls"
	"log"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

// One mechanism serves kafka-go's Transport (Writer, Client) and Dialer
// (Reader, Conn). (Compiled, not run: it needs a broker.)
func ExampleMechanism() {
	var src oauthbearer.TokenSource // for example from azure.NewManagedIdentity
	mech, err := kafkagosasl.Mechanism(src, nil)
	if err != nil {
		log.Fatal(err) // the source is nil
	}

	w := &kafka.Writer{
		Addr:      kafka.TCP("broker:9093"),
		Topic:     "orders",
		Transport: &kafka.Transport{SASL: mech, TLS: &tls.Config{}},
	}
	defer w.Close()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{"broker:9093"},
		Topic:   "orders",
		GroupID: "billing",
		Dialer:  &kafka.Dialer{SASLMechanism: mech, TLS: &tls.Config{}, Timeout: 10 * time.Second},
	})
	defer r.Close()

	ctx := context.Background()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("hi")}); err != nil {
		log.Fatal(err) // a rejection is an *oauthbearer.RejectedError
	}
}
