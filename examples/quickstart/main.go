// Command quickstart shows kafka-workload-identity end to end on one
// machine with nothing set up: it starts a local identity provider (an
// Azure IMDS emulator whose tokens look like Microsoft Entra v2 access
// tokens) and a Kafka broker that validates every token against the
// provider's JWKS, and a Schema Registry that does the same, then registers
// a schema through this module's bearer-auth transport (franz-go's sr
// client) and produces and consumes records with franz-go, all with this
// module's managed-identity token source.
//
//	go run ./examples/quickstart
//
// To run the same program against a real cluster from an Azure VM or AKS
// pod with a managed identity, give it the cluster and the Kafka App
// Registration's application ID:
//
//	go run ./examples/quickstart -bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 \
//		-target <app-id> -logical-cluster lkc-xxxx -identity-pool pool-xxxx -topic test \
//		-sr-url https://psrc-xxxx.westeurope.azure.confluent.cloud -sr-cluster lsrc-xxxx
//
// Without -sr-url the Schema Registry step is skipped.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

type config struct {
	bootstrap      string
	target         string
	clientID       string
	logicalCluster string
	identityPool   string
	srURL          string
	srCluster      string
	topic          string
	records        int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap servers of a real cluster (env KAFKA_BOOTSTRAP); empty runs everything locally")
	flag.StringVar(&cfg.target, "target", os.Getenv("KAFKA_TOKEN_TARGET"), "the Kafka App Registration's application ID, api:// URI or .default scope (env KAFKA_TOKEN_TARGET)")
	flag.StringVar(&cfg.clientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "client ID of a user-assigned managed identity (env AZURE_CLIENT_ID); empty: system-assigned")
	flag.StringVar(&cfg.logicalCluster, "logical-cluster", "", "Confluent Cloud logicalCluster extension (lkc-...)")
	flag.StringVar(&cfg.identityPool, "identity-pool", "", "Confluent Cloud identityPoolId extension (pool-...)")
	flag.StringVar(&cfg.srURL, "sr-url", os.Getenv("SCHEMA_REGISTRY_URL"), "Schema Registry URL (env SCHEMA_REGISTRY_URL); empty skips the schema step on a real cluster")
	flag.StringVar(&cfg.srCluster, "sr-cluster", os.Getenv("SCHEMA_REGISTRY_CLUSTER"), "Schema Registry cluster ID lsrc-..., sent as target-sr-cluster (env SCHEMA_REGISTRY_CLUSTER)")
	flag.StringVar(&cfg.topic, "topic", "quickstart", "topic to produce to and consume from")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	// say is called from the token cache's goroutine too (OnRefresh).
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	var miOpts azure.ManagedIdentityOptions
	var tlsCfg *tls.Config
	seeds := cfg.bootstrap

	if cfg.bootstrap == "" {
		issuer := oauthbearertest.NewIssuer(nil)
		defer issuer.Close()
		imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{Signer: issuer, TokenLifetime: time.Hour})
		defer imds.Close()
		// A fresh application ID per run: azidentity caches managed-identity
		// tokens process-wide by scope, and a token from an earlier run's
		// emulator would not verify against this one.
		cfg.target = randomGUID()
		broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
			Issuer: issuer, ExpectedAudience: cfg.target, Topics: []string{cfg.topic}, NumBrokers: 3,
		})
		defer broker.Close()
		say("started a local identity provider (Azure IMDS emulator, tokens signed by %s)", issuer.IssuerURL())
		say("started 3 local Kafka brokers at %v, validating tokens against %s", broker.Addrs(), issuer.JWKSURL())
		registry := oauthbearertest.NewSchemaRegistry(&oauthbearertest.SchemaRegistryOptions{
			Issuer: issuer, Audience: cfg.target, LogicalCluster: "lsrc-quick1", IdentityPoolID: "pool-Quick",
		})
		defer registry.Close()
		say("started a local Schema Registry at %s, validating tokens the same way", registry.URL)
		cfg.srURL, cfg.srCluster = registry.URL, "lsrc-quick1"
		miOpts.HTTPClient = imds.Client()
		seeds = broker.Addrs()[0]
		if cfg.logicalCluster == "" {
			cfg.logicalCluster = "lkc-quick1"
		}
		if cfg.identityPool == "" {
			cfg.identityPool = "pool-Quick"
		}
		defer func() {
			auths := broker.Authentications()
			accepted := 0
			for _, a := range auths {
				if a.Accepted {
					accepted++
				}
			}
			if len(auths) > 0 {
				a := auths[len(auths)-1]
				say("brokers accepted %d of %d authentications over %d connections; principal %q, extensions %v",
					accepted, len(auths), broker.Connections(), a.Principal, a.Extensions)
			}
		}()
	} else {
		if cfg.target == "" {
			return errors.New("-target (or KAFKA_TOKEN_TARGET) is required with -bootstrap: set it to the Kafka App Registration's application ID")
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}

	miOpts.Target = cfg.target
	miOpts.ID = managedID(cfg.clientID)
	miOpts.Cache = &oauthbearer.CacheOptions{
		Name: "azure managed identity",
		OnRefresh: func(ev oauthbearer.RefreshEvent) {
			if ev.Err != nil {
				say("token refresh failed (attempt %d, retrying at %s): %v", ev.Failures, ev.NextRetry.Format(time.TimeOnly), ev.Err)
				return
			}
			say("token refreshed in %s; it expires in %s", ev.Duration.Round(time.Millisecond), time.Until(ev.Expiry).Round(time.Second))
		},
	}
	mi, err := azure.NewManagedIdentity(&miOpts)
	if err != nil {
		return err
	}
	defer mi.Close()

	var src oauthbearer.TokenSource = mi
	ext := map[string]string{}
	if cfg.logicalCluster != "" {
		ext["logicalCluster"] = cfg.logicalCluster
	}
	if cfg.identityPool != "" {
		ext["identityPoolId"] = cfg.identityPool
	}
	if len(ext) > 0 {
		if src, err = oauthbearer.WithExtensions(mi, ext); err != nil {
			return err
		}
	}

	if cfg.srURL != "" {
		// The same token source authenticates to Schema Registry, with
		// the registry's cluster and the identity pool as headers.
		hc, err := schemaregistry.NewHTTPClient(mi, &schemaregistry.TransportOptions{LogicalCluster: cfg.srCluster, IdentityPoolID: cfg.identityPool})
		if err != nil {
			return err
		}
		reg, err := sr.NewClient(sr.URLs(cfg.srURL), sr.HTTPClient(hc))
		if err != nil {
			return err
		}
		subject := cfg.topic + "-value"
		ss, err := reg.CreateSchema(ctx, subject, sr.Schema{Type: sr.TypeJSON, Schema: `{"type":"string"}`})
		if err != nil {
			return fmt.Errorf("registering a schema at %s: %w", cfg.srURL, err)
		}
		say("registered a schema for subject %q in the Schema Registry: id %d, version %d (bearer token, target-sr-cluster %s)", subject, ss.ID, ss.Version, cfg.srCluster)
	}

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds),
		kgo.SASL(mech),
		kgo.ConsumeTopics(cfg.topic),
		// Read from the start and pick out this run's records by key: on
		// a real topic other records may be there too.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", seeds, err)
	}
	marker := fmt.Sprintf("quickstart-%d", time.Now().UnixNano())
	for i := range cfg.records {
		rec := &kgo.Record{Topic: cfg.topic, Key: []byte(marker), Value: []byte(fmt.Sprintf("record %d", i+1))}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("producing: %w", err)
		}
	}
	say("produced %d records to %q", cfg.records, cfg.topic)

	got := 0
	for got < cfg.records {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == marker {
				got++
				say("consumed %q from partition %d offset %d", r.Value, r.Partition, r.Offset)
			}
		})
	}
	say("done: produced and consumed %d records with a workload-identity token; no secret was configured", got)
	return nil
}

// randomGUID returns a random version-4 UUID.
func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// managedID selects a user-assigned identity by client ID, or the
// system-assigned one when id is empty.
func managedID(id string) azidentity.ManagedIDKind {
	if id == "" {
		return nil
	}
	return azidentity.ClientID(id)
}
