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
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
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
	cli.Kafka(&cfg.bootstrap, &cfg.topic, &cfg.offline, "my-topic", "Google Cloud and a real cluster")
	flag.BoolVar(&cfg.idToken, "id-token", false, "send a Google-signed ID token (for an OIDC-validating cluster) instead of Managed Kafka's wrapped access token")
	cli.String(&cfg.audience, "audience", "KAFKA_OAUTH_AUDIENCE", "", "with -id-token: the audience the cluster expects")
	cli.Main("gcp-managed-kafka", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
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
		defer env.Report(out)
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

	tlsOpt := roundtrip.TLS(cfg.offline) // Managed Kafka is TLS only; the local brokers speak plain TCP

	// The Kafka client: the source becomes its SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech), tlsOpt)
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, cfg.topic, []byte("hello from "+tok.Principal))
}
