// Package cli is the command-line plumbing the example programs share:
// flags whose default comes from an environment variable, the flags
// several examples take with the same meaning, and the main function
// every example has (a deadline, run, the error on stderr, exit status 1).
// It holds nothing an example exists to show.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/streamidentity/kafka-workload-identity/confluent"
)

// Main parses the command line into the flags defined on *cfg's fields,
// then calls run with *cfg as parsed, standard output and a context that
// ends after two minutes or on Ctrl-C. On error it prints "name: error"
// to standard error and exits with status 1. Taking cfg and run apart
// keeps run from seeing the flags' values from before parsing.
func Main[C any](name string, cfg *C, run func(cfg C, ctx context.Context, out io.Writer) error) {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err := run(*cfg, ctx, os.Stdout)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// String defines the string flag -name whose default is the environment
// variable env when it is set, else def; the usage text names env.
func String(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok && env != "" {
		def = v
	}
	if env != "" {
		usage += " (env " + env + ")"
	}
	flag.StringVar(p, name, def, usage)
}

// Kafka defines the flags of the cluster every example talks to:
// -bootstrap (env KAFKA_BOOTSTRAP), -topic (default topic) and -offline,
// which runs against local emulators instead of the services named in
// instead.
func Kafka(bootstrap, topic *string, offline *bool, defaultTopic, instead string) {
	String(bootstrap, "bootstrap", "KAFKA_BOOTSTRAP", "", "bootstrap servers, host:port, comma-separated")
	flag.StringVar(topic, "topic", defaultTopic, "topic to produce to and consume from; the principal needs Write and Read on it")
	flag.BoolVar(offline, "offline", false, "run against local emulators instead of "+instead)
}

// AzureAudience defines -audience (env KAFKA_OAUTH_AUDIENCE): the
// audience of an Entra token for Kafka.
func AzureAudience(p *string) {
	String(p, "audience", "KAFKA_OAUTH_AUDIENCE", "", "application ID, api:// URI or .default scope of the Kafka App Registration the cluster trusts")
}

// AzureClientID defines -client-id (env AZURE_CLIENT_ID).
func AzureClientID(p *string) {
	String(p, "client-id", "AZURE_CLIENT_ID", "", "a user-assigned managed identity's client ID; empty: system-assigned")
}

// ConfluentExtensions defines -logical-cluster (env
// CONFLUENT_LOGICAL_CLUSTER) and -identity-pool (env
// CONFLUENT_IDENTITY_POOL_ID), Confluent Cloud's SASL extensions.
func ConfluentExtensions(ext *confluent.Extensions) {
	String(&ext.LogicalCluster, "logical-cluster", "CONFLUENT_LOGICAL_CLUSTER", "", "Kafka cluster ID, lkc-...")
	String(&ext.IdentityPoolID, "identity-pool", "CONFLUENT_IDENTITY_POOL_ID", "", "identity pool ID, pool-...; empty: auto pool mapping")
}

// SchemaRegistry defines -sr-url (env SCHEMA_REGISTRY_URL) and
// -sr-cluster (env SCHEMA_REGISTRY_CLUSTER).
func SchemaRegistry(url, cluster *string) {
	String(url, "sr-url", "SCHEMA_REGISTRY_URL", "", "Schema Registry URL")
	String(cluster, "sr-cluster", "SCHEMA_REGISTRY_CLUSTER", "", "Schema Registry cluster ID, lsrc-...")
}
