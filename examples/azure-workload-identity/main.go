// Command azure-workload-identity produces and consumes a record on a
// Confluent Cloud cluster with IBM/sarama from an AKS pod, authenticated by
// AKS workload identity: the pod's projected service-account token is
// exchanged for a Microsoft Entra token, with no secret anywhere.
//
// The AKS workload identity webhook sets AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST in a pod whose service
// account is annotated with azure.workload.identity/client-id and that
// carries the label azure.workload.identity/use: "true"; the token source
// reads them. In such a pod:
//
//	go run ./examples/azure-workload-identity \
//		-bootstrap pkc-xxxxx.westeurope.azure.confluent.cloud:9092 \
//		-audience api://<kafka-app-registration> \
//		-logical-cluster lkc-xxxxx -identity-pool pool-xxxx -topic test
//
// -offline runs the same code against a Kubernetes token issuer, an Entra
// ID emulator that trusts it, and brokers that validate every token.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/IBM/sarama"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

type config struct {
	bootstrap, audience, topic string
	ext                        confluent.Extensions
	offline                    bool
	entra                      *http.Client // offline: the Entra ID emulator (TLS)
}

func main() {
	var cfg config
	cli.Kafka(&cfg.bootstrap, &cfg.topic, &cfg.offline, "test", "AKS and Confluent Cloud")
	cli.AzureAudience(&cfg.audience)
	cli.ConfluentExtensions(&cfg.ext)
	cli.Main("azure-workload-identity", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		// Writes a projected token file and sets the AZURE_* variables,
		// as the kubelet and the webhook would.
		env, err := offline.Start(offline.AzureWorkloadIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Report(out)
		cfg.bootstrap, cfg.audience, cfg.entra, cfg.ext = env.Bootstrap, env.Audience, env.HTTPClient, env.Extensions()
	}
	if cfg.bootstrap == "" || cfg.audience == "" {
		return errors.New("-bootstrap and -audience are required (or -offline): set them to the cluster's bootstrap server and the Kafka App Registration's application ID or api:// URI")
	}

	// Client, tenant, token file and authority come from the AZURE_*
	// variables. The file is re-read on every refresh because the kubelet
	// rotates it.
	wi, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
		Audience: cfg.audience, RequireV2: true,
		HTTPClient: cfg.entra, DisableInstanceDiscovery: cfg.offline, // the emulator serves no instance discovery
	})
	if err != nil {
		return err
	}
	defer wi.Close()
	src, err := confluent.WithExtensions(wi, cfg.ext)
	if err != nil {
		return err
	}
	provider, err := saramasasl.NewTokenProvider(src, nil)
	if err != nil {
		return err
	}

	sc := sarama.NewConfig()
	sc.Net.TLS.Enable = !cfg.offline // the local brokers speak plain TCP
	sc.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
	sc.Net.SASL.Enable, sc.Net.SASL.Mechanism, sc.Net.SASL.TokenProvider = true, sarama.SASLTypeOAuth, provider
	sc.Producer.Return.Successes = true
	client, err := sarama.NewClient([]string{cfg.bootstrap}, sc)
	if err != nil {
		// sarama reports a refused token as a bare SASL failure; Explain
		// says what the broker most likely objected to.
		return fmt.Errorf("connecting to %s: %w", cfg.bootstrap, saramasasl.Explain(err))
	}
	defer client.Close()

	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	p, off, err := producer.SendMessage(&sarama.ProducerMessage{Topic: cfg.topic, Value: sarama.StringEncoder("hello from AKS")})
	if err != nil {
		return fmt.Errorf("producing to %s: %w", cfg.topic, saramasasl.Explain(err))
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(cfg.topic, p, off)
	if err != nil {
		return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
	}
	defer pc.Close()
	select {
	case m := <-pc.Messages():
		fmt.Fprintf(out, "produced and consumed %q (partition %d, offset %d) with sarama; no secret configured\n", m.Value, p, off)
	case err := <-pc.Errors():
		return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
	case <-ctx.Done():
		return fmt.Errorf("consuming from %s: %w", cfg.topic, ctx.Err())
	}
	return nil
}
