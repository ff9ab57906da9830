// A sarama service on Amazon MSK with IAM access control, as a user writes
// it after `go get .../oauthbearer/saramasasl .../aws` (release rehearsal).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/IBM/sarama"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	src, err := awsid.NewMSK(ctx, &awsid.MSKOptions{Region: os.Getenv("AWS_REGION")})
	if err != nil {
		return err
	}
	defer src.Close()
	cfg := sarama.NewConfig()
	cfg.Net.TLS.Enable = true
	cfg.Producer.Return.Successes = true
	if _, err := saramasasl.Configure(cfg, src, nil); err != nil {
		return err
	}
	client, err := saramasasl.NewClient([]string{os.Getenv("KAFKA_BOOTSTRAP")}, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	_, _, err = producer.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder("hello")})
	return err
}
