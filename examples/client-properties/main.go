// Command client-properties is a Go service configured from the same Java
// client.properties file a team already runs kafka-topics.sh or a Java
// service with: clientprops.ParseFile reads it (the
// confluent-oauth-extensions IMDS or workload-identity forms, or Kafka's own
// client-credentials handler, with extension_* options),
// azure.FromClientProperties turns a file of any of these kinds into a token
// source carrying the extensions, and franz-go produces and consumes with it.
//
//	go run ./examples/client-properties -config client.properties \
//		-bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 -topic test
//
// -offline writes a file in the form of the Confluent Cloud managed-identity
// guide for an IMDS emulator and local brokers, and uses it. Settings
// unrelated to authentication are applied when this program knows them
// (client.id, acks) and otherwise refused with their key and line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	file, bootstrap, topic string
	allowedURLs            string // token endpoints the file may name, comma-separated
	offline                bool
	imds                   *http.Client // offline: 169.254.169.254 is the emulator
}

func main() {
	var cfg config
	cli.String(&cfg.file, "config", "KAFKA_CLIENT_PROPERTIES", "", "Java client.properties file")
	cli.String(&cfg.bootstrap, "bootstrap", "KAFKA_BOOTSTRAP", "", "bootstrap servers, like --bootstrap-server; default: the file's bootstrap.servers")
	flag.StringVar(&cfg.topic, "topic", "properties-demo", "topic to produce to and consume from")
	flag.StringVar(&cfg.allowedURLs, "allowed-urls", "", "token endpoints the file may name, comma-separated, as Kafka's -D"+clientprops.AllowedURLsEnv+"; default: that environment variable, else only the Azure identity endpoints")
	flag.BoolVar(&cfg.offline, "offline", false, "write a client.properties for local emulators (IMDS, Kafka) and use it")
	cli.Main("client-properties", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		env, err := offline.Start(offline.AzureManagedIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Report(out)
		if cfg.file, err = env.ClientProperties(); err != nil {
			return err
		}
		cfg.imds = env.HTTPClient
	}
	if cfg.file == "" {
		return errors.New("-config (or KAFKA_CLIENT_PROPERTIES) is required: give the path of a Java client.properties file, or run with -offline")
	}
	cc, err := clientprops.ParseFile(cfg.file)
	if err != nil {
		return err // names the key and line, never a secret
	}
	fmt.Fprintf(out, "%s: %s token source, %s over %s, extensions %s\n", cfg.file, cc.Source.Kind, cc.SASLMechanism, cc.SecurityProtocol, offline.Pairs(cc.Extensions.Map()))
	for _, ig := range cc.Ignored {
		fmt.Fprintf(out, "  note: %s\n", ig)
	}

	if cfg.bootstrap == "" {
		cfg.bootstrap = strings.Join(cc.BootstrapServers, ",")
	}
	opts, err := kafkaOptions(cc)
	if err != nil {
		return err
	}
	build := &clientprops.BuildOptions{HTTPClient: cfg.imds}
	if cfg.allowedURLs != "" {
		build.AllowedURLs = strings.Split(cfg.allowedURLs, ",")
	}
	src, err := azure.FromClientProperties(cc, build) // any kind, with the file's extensions
	if err != nil {
		return err
	}
	defer src.Close()
	// The Kafka client: the file's settings, and the source as its
	// SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(strings.Split(cfg.bootstrap, ",")...), kgo.SASL(mech))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, cfg.topic, []byte("configured by "+cfg.file))
}

// kafkaOptions applies the file's security protocol and the non-auth
// settings this program understands, and refuses the rest by key and line,
// so that nothing in the file is silently dropped.
func kafkaOptions(cc *clientprops.Config) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if cc.SecurityProtocol == "SASL_SSL" {
		opts = append(opts, roundtrip.TLS(false))
	}
	for _, p := range cc.Other {
		switch {
		case p.Key == "client.id":
			opts = append(opts, kgo.ClientID(p.Value))
		case p.Key == "acks" && (p.Value == "all" || p.Value == "-1"):
			opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		case p.Key == "acks" && p.Value == "1":
			opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
		case p.Key == "acks":
			return nil, fmt.Errorf("client.properties line %d: acks=%q: use all, -1 or 1", p.Line, p.Value)
		default:
			// The value is not quoted: an unknown key may hold a secret
			// (ssl.keystore.password).
			return nil, fmt.Errorf("client.properties line %d: %s is not supported by this program; remove it or map it to a franz-go option", p.Line, p.Key)
		}
	}
	return opts, nil
}
