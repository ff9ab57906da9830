// Command azure-workload-identity produces and consumes a few records on a
// Confluent Cloud cluster with IBM/sarama from an AKS pod, authenticated by
// AKS workload identity: the pod's projected service-account token is
// exchanged for a Microsoft Entra token, with no secret anywhere.
//
// The AKS workload identity webhook sets AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST in a pod whose
// service account is annotated with azure.workload.identity/client-id and
// that carries the label azure.workload.identity/use: "true"; the token
// source reads them. In such a pod:
//
//	go run ./examples/azure-workload-identity \
//		-bootstrap pkc-xxxxx.westeurope.azure.confluent.cloud:9092 \
//		-target api://<kafka-app-registration> \
//		-logical-cluster lkc-xxxxx -identity-pool pool-xxxx -topic test
//
// Anywhere else, -offline runs the same code against local stand-ins: a
// Kubernetes service-account token issuer, a Microsoft Entra ID emulator
// that trusts it, and brokers that validate every token.
//
//	go run ./examples/azure-workload-identity -offline
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

	"github.com/IBM/sarama"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

type config struct {
	bootstrap      string
	target         string
	logicalCluster string
	identityPool   string
	topic          string
	records        int
	offline        bool

	// Set only by -offline: the pod environment to read instead of the
	// process's, the Entra emulator's transport, and no TLS to the local
	// brokers.
	getenv                   func(string) string
	httpClient               *http.Client
	disableInstanceDiscovery bool
	plaintext                bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "Confluent Cloud bootstrap server, host:9092 (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.target, "target", os.Getenv("KAFKA_TOKEN_TARGET"), "application ID, api:// URI or .default scope of the App Registration Confluent Cloud trusts (env KAFKA_TOKEN_TARGET)")
	flag.StringVar(&cfg.logicalCluster, "logical-cluster", os.Getenv("CONFLUENT_LOGICAL_CLUSTER"), "Kafka cluster ID, lkc-... (env CONFLUENT_LOGICAL_CLUSTER); empty: mapped from the bootstrap server")
	flag.StringVar(&cfg.identityPool, "identity-pool", os.Getenv("CONFLUENT_IDENTITY_POOL_ID"), "identity pool ID(s), pool-... (env CONFLUENT_IDENTITY_POOL_ID); empty: auto pool mapping")
	flag.StringVar(&cfg.topic, "topic", "test", "topic to produce to and consume from; the identity pool needs Write and Read on it")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.BoolVar(&cfg.offline, "offline", false, "run against local Kubernetes, Entra and broker stand-ins instead of AKS and Confluent Cloud")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "azure-workload-identity:", err)
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
		return errors.New("-bootstrap and -target are required (or -offline): set them to the cluster's bootstrap server and the Kafka App Registration's application ID or api:// URI")
	}

	// Client ID, tenant, token file and authority host come from the
	// AZURE_* variables the webhook injects. The token file is re-read on
	// every refresh because the kubelet rotates it: a long-running
	// producer never presents an expired assertion (AADSTS700024).
	wi, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
		Target: cfg.target,
		// Confluent Cloud rejects Entra v1 tokens with an opaque
		// JWT_PROCESSING_FAILED; fail here instead, with the fix.
		RequireV2:                true,
		Getenv:                   cfg.getenv,
		HTTPClient:               cfg.httpClient,
		DisableInstanceDiscovery: cfg.disableInstanceDiscovery,
	})
	if err != nil {
		return err
	}
	defer wi.Close()

	src, err := confluent.WithExtensions(wi, confluent.Extensions{
		LogicalCluster: cfg.logicalCluster,
		IdentityPoolID: cfg.identityPool,
	})
	if err != nil {
		return err
	}

	// Fetch once up front so that an identity problem shows as itself
	// (with Entra's AADSTS code and the fix), not as a broker failure.
	// Print claims, never the token.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	report, err := azure.Diagnose(tok.Value)
	if err != nil {
		return err
	}
	say("got an Entra v%s token for principal %s (tenant %s, audience %s), valid for %s", report.Version, tok.Principal,
		report.TenantID, report.Audience, time.Until(tok.Expiry).Round(time.Minute))

	sc := sarama.NewConfig()
	sc.ClientID = "azure-workload-identity-example"
	sc.Net.TLS.Enable = !cfg.plaintext
	sc.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	provider, err := saramasasl.NewTokenProvider(src, nil)
	if err != nil {
		return err
	}
	sc.Net.SASL.TokenProvider = provider
	sc.Producer.Return.Successes = true
	sc.Producer.RequiredAcks = sarama.WaitForAll // success only once the record is replicated
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
	// Remember where the records landed, then read exactly those back:
	// no consumer group (so no group ACL) and no scan of the whole topic.
	type span struct{ first, last int64 }
	landed := map[int32]span{}
	for i := range cfg.records {
		p, off, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: cfg.topic, Value: sarama.StringEncoder(fmt.Sprintf("record %d from %s", i+1, tok.Principal)),
		})
		if err != nil {
			_ = producer.Close()
			return fmt.Errorf("producing to %q: %w", cfg.topic, saramasasl.Explain(err))
		}
		sp, ok := landed[p]
		if !ok {
			sp.first = off
		}
		sp.last = off
		landed[p] = sp
	}
	if err := producer.Close(); err != nil {
		return err
	}
	say("produced %d records to %q", cfg.records, cfg.topic)

	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	got := 0
	for p, sp := range landed {
		if err := consumeSpan(ctx, consumer, cfg.topic, p, sp.first, sp.last, func(m *sarama.ConsumerMessage) {
			got++
			say("consumed %q from partition %d offset %d", m.Value, m.Partition, m.Offset)
		}); err != nil {
			return err
		}
	}
	say("done: %d records produced and %d consumed with the workload identity's token; no secret configured", cfg.records, got)
	return nil
}

// consumeSpan reads partition p of topic from offset first through last.
func consumeSpan(ctx context.Context, consumer sarama.Consumer, topic string, p int32, first, last int64, each func(*sarama.ConsumerMessage)) error {
	pc, err := consumer.ConsumePartition(topic, p, first)
	if err != nil {
		return fmt.Errorf("consuming from %q partition %d: %w", topic, p, err)
	}
	defer pc.Close()
	for next := first; next <= last; {
		select {
		case m := <-pc.Messages():
			each(m)
			next = m.Offset + 1
		case err := <-pc.Errors():
			return fmt.Errorf("consuming from %q partition %d: %w", topic, p, err)
		case <-ctx.Done():
			return fmt.Errorf("consuming from %q partition %d: %w", topic, p, ctx.Err())
		}
	}
	return nil
}
