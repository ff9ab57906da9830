// Command gcp-managed-kafka produces and consumes a record with franz-go
// on Google Cloud Managed Service for Apache Kafka, authenticated by the
// service account the workload runs as (GCE VM, GKE workload identity,
// Cloud Run), with no sidecar token server and no key file: the
// Application Default Credentials access token, wrapped as Google's Java
// GcpLoginCallbackHandler wraps it. Grant the service account
// roles/managedkafka.client, then:
//
//	go run ./examples/gcp-managed-kafka \
//		-bootstrap bootstrap.orders.us-central1.managedkafka.acme-prod.cloud.goog:9092 -topic my-topic
//
// With -id-token -audience A it instead sends a Google-signed ID token for
// audience A, for a Kafka that validates OIDC JWTs (Apache Kafka 4.2+,
// Confluent Cloud identity pools, Aiven) against issuer
// https://accounts.google.com; the principal is the service account's
// numeric ID.
//
// -offline runs the same code against a GCE metadata server emulator and
// local brokers.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap, audience, topic string
	idToken, offline           bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap server, host:port (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.topic, "topic", "my-topic", "topic")
	flag.BoolVar(&cfg.idToken, "id-token", false, "send a Google-signed ID token (for an OIDC-validating cluster) instead of Managed Kafka's wrapped access token")
	flag.StringVar(&cfg.audience, "audience", os.Getenv("KAFKA_OAUTH_AUDIENCE"), "with -id-token: the audience the cluster expects (env KAFKA_OAUTH_AUDIENCE)")
	flag.BoolVar(&cfg.offline, "offline", false, "run against local emulators instead of Google Cloud and a real cluster")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gcp-managed-kafka:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.offline {
		// Sets GCE_METADATA_HOST, as a GKE node's metadata server would
		// answer at its fixed address.
		kind := offline.GCPManagedKafka
		if cfg.idToken {
			kind = offline.GCPIDToken
		}
		env, err := offline.Start(kind, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() { fmt.Fprint(out, env.Summary()) }()
		cfg.bootstrap, cfg.audience = env.Bootstrap, env.Audience
	}
	if cfg.bootstrap == "" || (cfg.idToken && cfg.audience == "") {
		return errors.New("-bootstrap (and with -id-token, -audience) are required, or -offline")
	}

	// One source per process: it asks the metadata server once and again
	// in the background before the token expires.
	var src *oauthbearer.Cache
	var err error
	if cfg.idToken {
		src, err = gcp.NewIDToken(ctx, &gcp.IDTokenOptions{Audience: cfg.audience})
	} else {
		src, err = gcp.NewManagedKafka(ctx, nil)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	// Fetch once up front so that a missing service account or scope
	// shows as itself, with the fix. Print the principal only.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "got a token for %s, valid for %s\n", tok.Principal, time.Until(tok.Expiry).Round(time.Minute))

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech)}
	if !cfg.offline { // Managed Kafka is TLS only; the local brokers speak plain TCP
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
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
	}
	fmt.Fprintf(out, "produced and consumed %q as %s; no key file, no sidecar\n", fs.Records()[0].Value, tok.Principal)
	return nil
}
