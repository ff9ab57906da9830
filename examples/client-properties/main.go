// Command client-properties is a Go service configured from the same Java
// client.properties file a team already runs kafka-topics.sh or a Java
// service with: clientprops.ParseFile reads it (the
// confluent-oauth-extensions IMDS or workload-identity forms, or Kafka's own
// client-credentials handler, with extension_* options),
// azure.FromClientProperties turns a file of any kind into a token source
// carrying the extensions, and franz-go
// produces and consumes with it.
//
// Offline, with nothing set up: it writes a client.properties file in the
// form of the Confluent Cloud managed-identity guide (IMDS URL with resource
// and client_id), starts an IMDS emulator with that user-assigned identity
// and an in-process Kafka cluster validating its tokens, and runs:
//
//	go run ./examples/client-properties -offline
//
// With a real file, as kafka-topics.sh --bootstrap-server ...
// --command-config client.properties would be run:
//
//	go run ./examples/client-properties -config client.properties \
//		-bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 -topic test
//
// Settings unrelated to authentication are applied when this program knows
// them (client.id, acks) and otherwise refused with their key and line,
// never silently ignored.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

// config is what the flags set.
type config struct {
	offline   bool
	file      string
	bootstrap string
	topic     string
	records   int
	// allowedURLs are the token endpoints the file may name (empty: the
	// environment variable clientprops.AllowedURLsEnv, else the built-in
	// Azure endpoints).
	allowedURLs string
}

func main() {
	var cfg config
	flag.BoolVar(&cfg.offline, "offline", false, "write a client.properties for local emulators (IMDS, Kafka) and use it")
	flag.StringVar(&cfg.file, "config", os.Getenv("KAFKA_CLIENT_PROPERTIES"), "Java client.properties file (env KAFKA_CLIENT_PROPERTIES)")
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap servers, like --bootstrap-server; default: the file's bootstrap.servers (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.topic, "topic", "properties-demo", "topic to produce to and consume from")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.StringVar(&cfg.allowedURLs, "allowed-urls", "", "token endpoints the file may name, comma-separated, as Kafka's -D"+clientprops.AllowedURLsEnv+"; default: that environment variable, else only the Azure identity endpoints")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "client-properties:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	build := &clientprops.BuildOptions{} // zero: real endpoints
	if cfg.offline {
		dir, err := os.MkdirTemp("", "client-properties-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		env, err := startOffline(cfg.topic)
		if err != nil {
			return err
		}
		defer env.close(say)
		cfg.file = filepath.Join(dir, "client.properties")
		if err := os.WriteFile(cfg.file, []byte(env.properties()), 0o600); err != nil {
			return err
		}
		say("offline: IMDS emulator with user-assigned identity %s, %d local Kafka brokers validating its tokens; wrote %s",
			env.clientID, len(env.broker.Addrs()), cfg.file)
		build.HTTPClient = env.imds.Client() // 169.254.169.254 is the emulator
	}
	if cfg.file == "" {
		return errors.New("-config (or KAFKA_CLIENT_PROPERTIES) is required: give the path of a Java client.properties file, or run with -offline")
	}

	cc, err := clientprops.ParseFile(cfg.file)
	if err != nil {
		return err // names the key and line, never a secret
	}
	describe(say, cfg.file, cc)

	seeds := cc.BootstrapServers
	if cfg.bootstrap != "" {
		seeds = strings.Split(cfg.bootstrap, ",")
	}
	if len(seeds) == 0 {
		return fmt.Errorf("%s has no bootstrap.servers: set it there or pass -bootstrap", cfg.file)
	}
	opts, err := kafkaOptions(cc)
	if err != nil {
		return err
	}

	if cfg.allowedURLs != "" {
		build.AllowedURLs = strings.Split(cfg.allowedURLs, ",")
	}
	src, err := azure.FromClientProperties(cc, build) // any kind
	if err != nil {
		return err
	}
	defer src.Close()

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts = append(opts,
		kgo.SeedBrokers(seeds...),
		kgo.SASL(mech),
		kgo.ConsumeTopics(cfg.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	marker := []byte(fmt.Sprintf("client-properties-%d", time.Now().UnixNano()))
	for i := range cfg.records {
		rec := &kgo.Record{Topic: cfg.topic, Key: marker, Value: []byte(fmt.Sprintf("record %d", i+1))}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("producing to %s: %w", cfg.topic, err)
		}
	}
	say("produced %d records to %q", cfg.records, cfg.topic)
	got := 0
	for got < cfg.records {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == string(marker) {
				got++
				say("consumed %q from partition %d offset %d", r.Value, r.Partition, r.Offset)
			}
		})
	}
	say("done: the Java client.properties drove a Go client; %d records round-tripped", got)
	return nil
}

// describe prints what the file configures: IDs and URLs, never a secret.
func describe(say func(string, ...any), file string, cc *clientprops.Config) {
	s := cc.Source
	switch s.Kind {
	case clientprops.SourceAzureManagedIdentity:
		id := "system-assigned"
		switch {
		case s.ClientID != "":
			id = "client_id " + s.ClientID
		case s.ResourceID != "":
			id = "msi_res_id " + s.ResourceID
		case s.ObjectID != "":
			id = "object_id " + s.ObjectID
		}
		say("%s: Azure managed identity (%s) for resource %s", file, id, s.Resource)
	case clientprops.SourceAzureWorkloadIdentity:
		say("%s: AKS workload identity, tenant %s, scope %s", file, s.TenantID, s.Scope)
	case clientprops.SourceClientCredentials:
		say("%s: OAuth client credentials for client %s at %s, scope %q", file, s.ClientID, s.TokenURL, s.Scope)
	}
	say("  %s/%s to %v, extensions %v", cc.SecurityProtocol, cc.SASLMechanism, cc.BootstrapServers, cc.Extensions.Map())
	for _, ig := range cc.Ignored {
		say("  note: %s", ig)
	}
}

// kafkaOptions applies the file's security protocol and the non-auth
// settings this program understands, and refuses the rest by key and
// line, so that nothing in the file is silently dropped.
func kafkaOptions(cc *clientprops.Config) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if cc.SecurityProtocol == "SASL_SSL" {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	for _, p := range cc.Other {
		switch p.Key {
		case "client.id":
			opts = append(opts, kgo.ClientID(p.Value))
		case "acks":
			switch p.Value {
			case "all", "-1":
				opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
			case "1":
				opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
			case "0":
				opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
			default:
				return nil, fmt.Errorf("client.properties line %d: acks=%q: use all, -1, 1 or 0", p.Line, p.Value)
			}
		default:
			// Values are not quoted: an unknown key may hold a secret
			// (ssl.keystore.password).
			return nil, fmt.Errorf("client.properties line %d: %s is not supported by this program; remove it or map it to a franz-go option", p.Line, p.Key)
		}
	}
	return opts, nil
}
