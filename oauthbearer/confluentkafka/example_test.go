//go:build cgo

package confluentkafka_test

import (
	"context"
	"log"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// A producer that only uses delivery channels, never Poll or Events,
// keeps its token current through the Refresher. (Compiled, not run: it
// needs a broker.)
func ExampleNewRefresher() {
	var src oauthbearer.TokenSource // for example from azure.NewManagedIdentity

	p, err := kafka.NewProducer(&kafka.ConfigMap{
		"bootstrap.servers":      "broker:9093",
		"security.protocol":      "SASL_SSL",
		"sasl.mechanism":         "OAUTHBEARER",
		"go.logs.channel.enable": true, // the refresher learns of rejections from the log
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close() // runs second
	r, err := confluentkafka.NewRefresher(p, src, &confluentkafka.Options{Logs: p.Logs()})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close() // runs first

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Ready(ctx); err != nil {
		log.Fatal(err) // an *oauthbearer.RejectedError, or why no token could be had
	}
	topic := "orders"
	dr := make(chan kafka.Event, 1)
	if err := p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}, Value: []byte("hi")}, dr); err != nil {
		log.Fatal(err)
	}
	if m := (<-dr).(*kafka.Message); m.TopicPartition.Error != nil {
		log.Fatal(r.Explain(m.TopicPartition.Error)) // with the cause: a broker's rejection or the source's failure
	}
}

// An application that polls passes events to Handle and errors to
// Explain.
func ExampleRefresher_Handle() {
	var (
		c *kafka.Consumer
		r *confluentkafka.Refresher
	)
	for {
		ev := c.Poll(100)
		if r.Handle(ev) {
			continue // a token refresh request, answered
		}
		switch e := ev.(type) {
		case *kafka.Message:
			_ = e // process
		case kafka.Error:
			log.Print(confluentkafka.Explain(e)) // a rejection names its status and usual cause
		}
	}
}
