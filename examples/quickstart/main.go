// Command quickstart produces and consumes a few records with franz-go and
// registers a schema, authenticated by an Azure managed identity: no API
// key, no secret. One cached token source serves every Kafka connection,
// every re-authentication and the Schema Registry.
//
// With nothing set up it runs offline, against local emulators of Azure
// IMDS, a Kafka cluster and a Schema Registry that validate every token:
//
//	go run ./examples/quickstart
//
// On an Azure VM or AKS node with a managed identity, against Confluent
// Cloud (without -sr-url the schema step is skipped):
//
//	go run ./examples/quickstart -bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 \
//		-audience <kafka-app-registration-id> -logical-cluster lkc-xxxx -identity-pool pool-xxxx \
//		-sr-url https://psrc-xxxx.westeurope.azure.confluent.cloud -sr-cluster lsrc-xxxx -topic test
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
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
	bootstrap, audience, clientID, topic string
	ext                                  confluent.Extensions
	srURL, srCluster                     string
	records                              int
	imds                                 *http.Client // nil: the real IMDS
	plaintext                            bool         // offline: the local brokers speak plain TCP
}

func main() {
	var cfg config
	cli.String(&cfg.bootstrap, "bootstrap", "KAFKA_BOOTSTRAP", "", "bootstrap server; empty: run offline")
	cli.AzureAudience(&cfg.audience)
	cli.AzureClientID(&cfg.clientID)
	cli.ConfluentExtensions(&cfg.ext)
	cli.SchemaRegistry(&cfg.srURL, &cfg.srCluster) // empty: skip the schema step
	flag.StringVar(&cfg.topic, "topic", "quickstart", "topic to produce to and consume from")
	flag.IntVar(&cfg.records, "records", 3, "how many records")
	cli.Main("quickstart", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.bootstrap == "" {
		env, err := offline.Start(offline.AzureManagedIdentity, &offline.Options{Topic: cfg.topic, SchemaRegistry: true})
		if err != nil {
			return err
		}
		defer env.Close()
		defer report(out, env)
		fmt.Fprintf(out, "offline: started %s\n", env.Described)
		cfg.bootstrap, cfg.audience, cfg.imds, cfg.plaintext, cfg.ext = env.Bootstrap, env.Audience, env.HTTPClient, true, env.Extensions()
		cfg.srURL, cfg.srCluster = env.RegistryURL, offline.RegistryCluster
	} else if cfg.audience == "" {
		return errors.New("-audience (or KAFKA_OAUTH_AUDIENCE) is required with -bootstrap: set it to the Kafka App Registration's application ID")
	}

	// One token source per process: it fetches a token once and refreshes
	// it in the background before it expires.
	var id azidentity.ManagedIDKind // nil: system-assigned
	if cfg.clientID != "" {
		id = azidentity.ClientID(cfg.clientID)
	}
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: cfg.audience, ID: id, HTTPClient: cfg.imds})
	if err != nil {
		return err
	}
	defer mi.Close()

	if cfg.srURL != "" {
		// The same token authenticates to Schema Registry, with the
		// registry's cluster and the identity pool as headers.
		hc, err := schemaregistry.NewHTTPClient(mi, &schemaregistry.TransportOptions{LogicalCluster: cfg.srCluster, IdentityPoolID: cfg.ext.IdentityPoolID})
		if err != nil {
			return err
		}
		reg, err := sr.NewClient(sr.URLs(cfg.srURL), sr.HTTPClient(hc))
		if err != nil {
			return err
		}
		ss, err := reg.CreateSchema(ctx, cfg.topic+"-value", sr.Schema{Type: sr.TypeJSON, Schema: `{"type":"string"}`})
		if err != nil {
			return fmt.Errorf("registering a schema at %s: %w", cfg.srURL, err)
		}
		fmt.Fprintf(out, "registered schema %d (version %d) for subject %s-value\n", ss.ID, ss.Version, cfg.topic)
	}

	// Kafka gets the same token with Confluent Cloud's extensions.
	src, err := confluent.WithExtensions(mi, cfg.ext)
	if err != nil {
		return err
	}
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech), roundtrip.TLS(cfg.plaintext),
		kgo.ConsumeTopics(cfg.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()

	// Produce records under a key of this run, then read them back.
	key := fmt.Appendf(nil, "quickstart-%d", time.Now().UnixNano())
	for i := range cfg.records {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: cfg.topic, Key: key, Value: fmt.Appendf(nil, "record %d", i+1)}).FirstErr(); err != nil {
			return fmt.Errorf("producing to %s: %w", cfg.topic, err)
		}
	}
	for got := 0; got < cfg.records; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == string(key) {
				got++
				fmt.Fprintf(out, "consumed %q from partition %d at offset %d\n", r.Value, r.Partition, r.Offset)
			}
		})
	}
	fmt.Fprintf(out, "produced and consumed %s with a workload-identity token; no secret was configured\n", offline.Plural(cfg.records, "record"))
	return nil
}

// report says what the emulators saw and what the token cache saved.
func report(out io.Writer, env *offline.Env) {
	fmt.Fprint(out, env.Summary())
	_, auths := env.Authentications()
	fmt.Fprintf(out, "saved: %s to the identity provider for %s and the Schema Registry calls\n",
		offline.Plural(env.TokensIssued(), "request"), offline.Plural(auths, "Kafka authentication"))
	fmt.Fprintln(out, "next: run with -bootstrap and -audience on an Azure VM or AKS node, or see the other programs in examples/ (README.md lists them)")
}
