// Command azure-managed-identity produces and consumes a record on a
// Confluent Cloud cluster with franz-go, authenticated by the Azure managed
// identity of the VM, scale set, App Service or AKS node it runs on: no API
// key, no secret. It is the Go equivalent of a Java client.properties that
// points sasl.oauthbearer.token.endpoint.url at IMDS with
// extension_logicalCluster and extension_identityPoolId.
//
//	go run ./examples/azure-managed-identity \
//		-bootstrap pkc-xxxxx.westeurope.azure.confluent.cloud:9092 \
//		-target <kafka-app-registration-id> -client-id <managed-identity-client-id> \
//		-logical-cluster lkc-xxxxx -identity-pool pool-xxxx -topic test
//
// Leave -client-id empty for the system-assigned identity. -offline runs
// the same code against an IMDS emulator and brokers that validate tokens.
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
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap, target, clientID, topic string
	ext                                confluent.Extensions
	offline                            bool
	imds                               *http.Client // offline: the IMDS emulator
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "Confluent Cloud bootstrap server, host:9092 (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.target, "target", os.Getenv("KAFKA_TOKEN_TARGET"), "application ID, api:// URI or .default scope of the App Registration Confluent Cloud trusts (env KAFKA_TOKEN_TARGET)")
	flag.StringVar(&cfg.clientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "a user-assigned managed identity's client ID (env AZURE_CLIENT_ID); empty: system-assigned")
	flag.StringVar(&cfg.ext.LogicalCluster, "logical-cluster", os.Getenv("CONFLUENT_LOGICAL_CLUSTER"), "Kafka cluster ID, lkc-... (env CONFLUENT_LOGICAL_CLUSTER)")
	flag.StringVar(&cfg.ext.IdentityPoolID, "identity-pool", os.Getenv("CONFLUENT_IDENTITY_POOL_ID"), "identity pool ID, pool-... (env CONFLUENT_IDENTITY_POOL_ID); empty: auto pool mapping")
	flag.StringVar(&cfg.topic, "topic", "test", "topic; the identity pool needs Write and Read on it")
	flag.BoolVar(&cfg.offline, "offline", false, "run against local emulators instead of Azure and Confluent Cloud")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "azure-managed-identity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.offline {
		env, err := offline.Start(offline.AzureManagedIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() { fmt.Fprint(out, env.Summary()) }()
		cfg.bootstrap, cfg.target, cfg.clientID, cfg.imds = env.Bootstrap, env.Target, env.ClientID, env.HTTPClient
		cfg.ext = confluent.Extensions{LogicalCluster: offline.LogicalCluster, IdentityPoolID: offline.IdentityPool}
	}
	if cfg.bootstrap == "" || cfg.target == "" {
		return errors.New("-bootstrap and -target are required (or -offline): set them to the cluster's bootstrap server and the Kafka App Registration's application ID")
	}

	var id azidentity.ManagedIDKind // nil: system-assigned
	if cfg.clientID != "" {
		id = azidentity.ClientID(cfg.clientID)
	}
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience: cfg.target, ID: id, HTTPClient: cfg.imds,
		// Confluent Cloud rejects Entra v1 tokens with an opaque
		// JWT_PROCESSING_FAILED; fail here instead, with the fix.
		RequireV2: true,
	})
	if err != nil {
		return err
	}
	defer mi.Close()
	src, err := confluent.WithExtensions(mi, cfg.ext)
	if err != nil {
		return err
	}

	// Fetch once up front so that an identity problem shows as itself,
	// not as a broker failure. Print claims, never the token.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	claims, err := azure.Diagnose(tok.Value)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "got an Entra v%s token for %s (audience %s), valid for %s\n", claims.Version, tok.Principal, claims.Audience, claims.Remaining.Round(time.Minute))

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech)}
	if !cfg.offline { // the local brokers speak plain TCP
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: cfg.topic, Value: []byte("hello from " + tok.Principal)}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", cfg.topic, err)
	}
	// Read exactly that record back: no consumer group, so no group ACL.
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
	}
	fmt.Fprintf(out, "produced and consumed %q (partition %d, offset %d); no secret configured\n", fs.Records()[0].Value, rec.Partition, rec.Offset)
	return nil
}
