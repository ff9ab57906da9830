// Command azure-managed-identity produces and consumes a record on a
// Confluent Cloud cluster with franz-go, authenticated by the Azure managed
// identity of the VM, scale set, App Service or AKS node it runs on: no API
// key, no secret. It is the Go equivalent of a Java client.properties that
// points sasl.oauthbearer.token.endpoint.url at IMDS with
// extension_logicalCluster and extension_identityPoolId.
//
//	go run ./examples/azure-managed-identity \
//		-bootstrap pkc-xxxxx.westeurope.azure.confluent.cloud:9092 \
//		-audience <kafka-app-registration-id> -client-id <managed-identity-client-id> \
//		-logical-cluster lkc-xxxxx -identity-pool pool-xxxx -topic test
//
// Leave -client-id empty for the system-assigned identity. -offline runs
// the same code against an IMDS emulator and brokers that validate tokens.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap, audience, clientID, topic string
	ext                                  confluent.Extensions
	offline                              bool
	imds                                 *http.Client // offline: the IMDS emulator
}

func main() {
	var cfg config
	cli.Kafka(&cfg.bootstrap, &cfg.topic, &cfg.offline, "test", "Azure and Confluent Cloud")
	cli.AzureAudience(&cfg.audience)
	cli.AzureClientID(&cfg.clientID)
	cli.ConfluentExtensions(&cfg.ext)
	cli.Main("azure-managed-identity", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		env, err := offline.Start(offline.AzureManagedIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Report(out)
		cfg.bootstrap, cfg.audience, cfg.clientID, cfg.imds, cfg.ext = env.Bootstrap, env.Audience, env.ClientID, env.HTTPClient, env.Extensions()
	}
	if cfg.bootstrap == "" || cfg.audience == "" {
		return errors.New("-bootstrap and -audience are required (or -offline): set them to the cluster's bootstrap server and the Kafka App Registration's application ID")
	}

	var id azidentity.ManagedIDKind // nil: system-assigned
	if cfg.clientID != "" {
		id = azidentity.ClientID(cfg.clientID)
	}
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience: cfg.audience, ID: id, HTTPClient: cfg.imds,
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

	// The Kafka client: the source becomes its SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech), roundtrip.TLS(cfg.offline))
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, cfg.topic, []byte("hello from "+tok.Principal))
}
