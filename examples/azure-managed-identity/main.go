// Command azure-managed-identity produces and consumes a few records on a
// Confluent Cloud cluster with franz-go, authenticated by the Azure
// managed identity of the VM, scale set, App Service or AKS node it runs
// on: no API key, no secret. It is the Go equivalent of the Java
// client.properties that points sasl.oauthbearer.token.endpoint.url at IMDS
// with extension_logicalCluster and extension_identityPoolId.
//
// On an Azure machine with a user-assigned identity:
//
//	go run ./examples/azure-managed-identity \
//		-bootstrap pkc-xxxxx.westeurope.azure.confluent.cloud:9092 \
//		-target <kafka-app-registration-id> -client-id <managed-identity-client-id> \
//		-logical-cluster lkc-xxxxx -identity-pool pool-xxxx -topic test
//
// Leave -client-id empty for the system-assigned identity. Anywhere else,
// -offline runs the same code against local stand-ins: an Azure IMDS
// emulator and brokers that validate every token against its JWKS.
//
//	go run ./examples/azure-managed-identity -offline
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap      string
	target         string
	clientID       string
	logicalCluster string
	identityPool   string
	topic          string
	records        int
	offline        bool

	// Set only by -offline: where azidentity's IMDS requests go, and no
	// TLS to the local brokers.
	httpClient *http.Client
	plaintext  bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "Confluent Cloud bootstrap server, host:9092 (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.target, "target", os.Getenv("KAFKA_TOKEN_TARGET"), "application (client) ID, api:// URI or .default scope of the App Registration Confluent Cloud trusts (env KAFKA_TOKEN_TARGET)")
	flag.StringVar(&cfg.clientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "client ID of a user-assigned managed identity (env AZURE_CLIENT_ID); empty: the system-assigned identity")
	flag.StringVar(&cfg.logicalCluster, "logical-cluster", os.Getenv("CONFLUENT_LOGICAL_CLUSTER"), "Kafka cluster ID, lkc-... (env CONFLUENT_LOGICAL_CLUSTER); empty: mapped from the bootstrap server")
	flag.StringVar(&cfg.identityPool, "identity-pool", os.Getenv("CONFLUENT_IDENTITY_POOL_ID"), "identity pool ID(s), pool-... (env CONFLUENT_IDENTITY_POOL_ID); empty: auto pool mapping")
	flag.StringVar(&cfg.topic, "topic", "test", "topic to produce to and consume from; the identity pool needs Write and Read on it")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.BoolVar(&cfg.offline, "offline", false, "run against a local IMDS emulator and local validating brokers instead of Azure and Confluent Cloud")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "azure-managed-identity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	if cfg.offline {
		bench, err := startOffline(&cfg, say)
		if err != nil {
			return err
		}
		defer bench.close()
	}
	if cfg.bootstrap == "" || cfg.target == "" {
		return errors.New("-bootstrap and -target are required (or -offline): set them to the cluster's bootstrap server and the Kafka App Registration's application ID")
	}

	// One source per process: it fetches from IMDS once, then refreshes
	// in the background before the token expires; every connection and
	// re-authentication reuses the cached token.
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Target: cfg.target,
		ID:     managedID(cfg.clientID),
		// Confluent Cloud rejects Entra v1 tokens with an opaque
		// JWT_PROCESSING_FAILED; fail here instead, with the fix.
		RequireV2:  true,
		HTTPClient: cfg.httpClient,
	})
	if err != nil {
		return err
	}
	defer mi.Close()

	// Confluent Cloud reads the cluster and identity pool from SASL
	// extensions sent beside the token.
	src, err := confluent.WithExtensions(mi, confluent.Extensions{
		LogicalCluster: cfg.logicalCluster,
		IdentityPoolID: cfg.identityPool,
	})
	if err != nil {
		return err
	}

	// Fetch once up front so that an identity problem shows as itself,
	// not as a broker connection failure. Print claims, never the token.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	report, err := azure.Diagnose(tok.Value)
	if err != nil {
		return err
	}
	say("got an Entra v%s token for principal %s (audience %s), valid for %s", report.Version, tok.Principal,
		report.Audience, time.Until(tok.Expiry).Round(time.Minute))

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.bootstrap),
		kgo.SASL(mech),
	}
	if !cfg.plaintext {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// Produce, remembering where the records landed, then read exactly
	// those back: no consumer group (so no group ACL) and no scan of the
	// whole topic.
	start := map[int32]int64{}
	for i := range cfg.records {
		rec := &kgo.Record{Topic: cfg.topic, Value: fmt.Appendf(nil, "record %d from %s", i+1, tok.Principal)}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("producing to %q: %w", cfg.topic, err)
		}
		if off, ok := start[rec.Partition]; !ok || rec.Offset < off {
			start[rec.Partition] = rec.Offset
		}
	}
	say("produced %d records to %q", cfg.records, cfg.topic)

	offsets := map[int32]kgo.Offset{}
	for p, off := range start {
		offsets[p] = kgo.NewOffset().At(off)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: offsets})
	for got := 0; got < cfg.records; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %q: %w", cfg.topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			say("consumed %q from partition %d offset %d", r.Value, r.Partition, r.Offset)
		})
	}
	say("done: %d records produced and consumed with the managed identity's token; no secret configured", cfg.records)
	return nil
}

// managedID selects a user-assigned identity by client ID, or the
// system-assigned one when id is empty.
func managedID(id string) azidentity.ManagedIDKind {
	if id == "" {
		return nil
	}
	return azidentity.ClientID(id)
}
