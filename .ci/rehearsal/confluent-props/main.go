// A confluent-kafka-go service configured from a Java client.properties
// (OAuth client credentials), as a user writes it after `go get
// .../oauthbearer/confluentkafka` and the root module (release rehearsal).
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

func main() {
	if err := run(context.Background(), "client.properties"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, file string) error {
	cc, err := clientprops.ParseFile(file)
	if err != nil {
		return err
	}
	src, err := cc.NewSource(nil)
	if err != nil {
		return err
	}
	defer src.Close()
	p, err := kafka.NewProducer(&kafka.ConfigMap{
		"bootstrap.servers": strings.Join(cc.BootstrapServers, ","),
		"security.protocol": "SASL_SSL",
		"sasl.mechanism":    "OAUTHBEARER",
	})
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := confluentkafka.NewRefresher(p, src, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return r.Ready(ctx)
}
