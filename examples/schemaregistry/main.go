// Command schemaregistry produces and consumes a schema-encoded record on
// Confluent Cloud with no API key: the Azure managed identity's token goes to
// Kafka over SASL/OAUTHBEARER and, through schemaregistry.NewHTTPClient, to
// Schema Registry as a bearer token with the target-sr-cluster and
// Confluent-Identity-Pool-Id headers. Records carry the Confluent wire
// format (magic byte and schema ID), written and read by franz-go's
// sr.Serde; the consumer fetches the schema by the ID it finds.
//
//	go run ./examples/schemaregistry \
//		-bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 \
//		-audience <kafka-app-registration-id> -logical-cluster lkc-xxxx -identity-pool pool-xxxx \
//		-sr-url https://psrc-xxxx.westeurope.azure.confluent.cloud -sr-cluster lsrc-xxxx -topic cars
//
// -offline runs the same code against an IMDS emulator, local brokers and a
// Schema Registry emulator, all validating every token.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

type config struct {
	bootstrap, audience, srURL, srCluster, topic string
	ext                                          confluent.Extensions
	offline                                      bool
	imds                                         *http.Client // offline: the IMDS emulator
}

// Car is the record value; carSchema its JSON Schema.
type Car struct {
	Make  string `json:"make"`
	Model string `json:"model"`
}

const carSchema = `{"title":"Car","type":"object","properties":{"make":{"type":"string"},"model":{"type":"string"}}}`

func main() {
	var cfg config
	cli.Kafka(&cfg.bootstrap, &cfg.topic, &cfg.offline, "cars", "Azure and Confluent Cloud") // the value subject is <topic>-value
	cli.AzureAudience(&cfg.audience)
	cli.ConfluentExtensions(&cfg.ext)
	cli.SchemaRegistry(&cfg.srURL, &cfg.srCluster)
	cli.Main("schemaregistry", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		env, err := offline.Start(offline.AzureManagedIdentity, &offline.Options{Topic: cfg.topic, SchemaRegistry: true})
		if err != nil {
			return err
		}
		defer env.Report(out)
		cfg.bootstrap, cfg.audience, cfg.imds, cfg.ext = env.Bootstrap, env.Audience, env.HTTPClient, env.Extensions()
		cfg.srURL, cfg.srCluster = env.RegistryURL, offline.RegistryCluster
	}
	if cfg.bootstrap == "" || cfg.audience == "" || cfg.srURL == "" {
		return errors.New("-bootstrap, -audience and -sr-url are required (or -offline)")
	}

	// One identity, one cached token, for Kafka and the registry.
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: cfg.audience, HTTPClient: cfg.imds})
	if err != nil {
		return err
	}
	defer mi.Close()
	hc, err := schemaregistry.NewHTTPClient(mi, &schemaregistry.TransportOptions{LogicalCluster: cfg.srCluster, IdentityPoolID: cfg.ext.IdentityPoolID})
	if err != nil {
		return err
	}
	reg, err := sr.NewClient(sr.URLs(cfg.srURL), sr.HTTPClient(hc))
	if err != nil {
		return err
	}
	ss, err := reg.CreateSchema(ctx, cfg.topic+"-value", sr.Schema{Type: sr.TypeJSON, Schema: carSchema})
	if err != nil {
		return fmt.Errorf("registering the schema at %s: %w", cfg.srURL, err)
	}
	fmt.Fprintf(out, "registered schema %d for subject %s-value\n", ss.ID, cfg.topic)

	src, err := confluent.WithExtensions(mi, cfg.ext)
	if err != nil {
		return err
	}
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}

	var producer sr.Serde
	producer.Register(ss.ID, Car{}, sr.EncodeFn(json.Marshal))
	value, err := producer.Encode(Car{Make: "Volvo", Model: "EX30"})
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech), roundtrip.TLS(cfg.offline)) // the local brokers speak plain TCP
	if err != nil {
		return err
	}
	defer cl.Close()
	rec, err := roundtrip.Record(ctx, cl, cfg.topic, value)
	if err != nil {
		return err
	}

	// The consumer is not told the ID: it reads it from the record and
	// fetches the schema from the registry.
	got := rec.Value
	var consumer sr.Serde
	id, _, err := consumer.DecodeID(got)
	if err != nil {
		return err
	}
	if _, err := reg.SchemaByID(ctx, id); err != nil {
		return fmt.Errorf("fetching schema %d: %w", id, err)
	}
	consumer.Register(id, Car{}, sr.DecodeFn(json.Unmarshal))
	var car Car
	if err := consumer.Decode(got, &car); err != nil {
		return err
	}
	fmt.Fprintf(out, "consumed a %s %s encoded with schema %d; no secret configured\n", car.Make, car.Model, id)
	return nil
}
