// Command schemaregistry produces and consumes schema-encoded records on
// Confluent Cloud with no API key and no secret: the workload's Azure
// managed identity gets a token, franz-go presents it to Kafka over
// SASL/OAUTHBEARER (with the logicalCluster and identityPoolId
// extensions), and franz-go's Schema Registry client presents the same
// token as a bearer token, with the target-sr-cluster and
// Confluent-Identity-Pool-Id headers, through schemaregistry.NewHTTPClient.
// Records carry the Confluent wire format (magic byte and schema ID) written
// and read by franz-go's sr.Serde; the consumer looks the schema up in the
// registry by the ID it finds in each record.
//
// Offline, with nothing set up (a local IMDS emulator, an in-process Kafka
// cluster and a TLS Schema Registry emulator, all validating every token):
//
//	go run ./examples/schemaregistry -offline
//
// Against Confluent Cloud, from an Azure VM or AKS pod with a managed
// identity:
//
//	go run ./examples/schemaregistry \
//		-bootstrap pkc-xxxx.westeurope.azure.confluent.cloud:9092 \
//		-target <kafka-app-registration-id> -client-id <user-assigned-mi-client-id> \
//		-logical-cluster lkc-xxxx -identity-pool pool-xxxx \
//		-sr-url https://psrc-xxxx.westeurope.azure.confluent.cloud -sr-cluster lsrc-xxxx \
//		-topic cars
//
// -sr-ca-file adds a PEM CA bundle for a registry behind a private CA (TLS
// stays configurable through schemaregistry.TransportOptions.TLSClientConfig).
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// config is what the flags set.
type config struct {
	offline        bool
	bootstrap      string
	target         string
	clientID       string
	logicalCluster string
	identityPool   string
	srURL          string
	srCluster      string
	srCAFile       string
	topic          string
	records        int
}

// carSchema is the JSON Schema of the values, after the seed article's
// Avro "Car" record.
const carSchema = `{"$schema":"http://json-schema.org/draft-07/schema#","title":"Car","type":"object",` +
	`"properties":{"make":{"type":"string"},"model":{"type":"string"},"price":{"type":"integer"}},` +
	`"required":["make","model"]}`

// Car is the record value.
type Car struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Price int    `json:"price"`
}

func main() {
	var cfg config
	flag.BoolVar(&cfg.offline, "offline", false, "start local emulators (IMDS, Kafka, Schema Registry) instead of using real ones; implied when -bootstrap is empty")
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "Kafka bootstrap servers (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.target, "target", os.Getenv("KAFKA_TOKEN_TARGET"), "the Kafka App Registration's application ID, api:// URI or .default scope (env KAFKA_TOKEN_TARGET)")
	flag.StringVar(&cfg.clientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "client ID of a user-assigned managed identity (env AZURE_CLIENT_ID); empty: system-assigned")
	flag.StringVar(&cfg.logicalCluster, "logical-cluster", os.Getenv("CONFLUENT_LOGICAL_CLUSTER"), "Kafka cluster ID lkc-... (env CONFLUENT_LOGICAL_CLUSTER); empty: not sent")
	flag.StringVar(&cfg.identityPool, "identity-pool", os.Getenv("CONFLUENT_IDENTITY_POOL_ID"), "identity pool pool-... (env CONFLUENT_IDENTITY_POOL_ID); empty: auto pool mapping")
	flag.StringVar(&cfg.srURL, "sr-url", os.Getenv("SCHEMA_REGISTRY_URL"), "Schema Registry URL (env SCHEMA_REGISTRY_URL)")
	flag.StringVar(&cfg.srCluster, "sr-cluster", os.Getenv("SCHEMA_REGISTRY_CLUSTER"), "Schema Registry cluster ID lsrc-..., sent as target-sr-cluster (env SCHEMA_REGISTRY_CLUSTER)")
	flag.StringVar(&cfg.srCAFile, "sr-ca-file", "", "PEM file of extra CAs to trust for the Schema Registry; empty: system roots")
	flag.StringVar(&cfg.topic, "topic", "cars", "topic; the value subject is <topic>-value")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "schemaregistry:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	if cfg.bootstrap == "" {
		cfg.offline = true
	}
	var miOpts azure.ManagedIdentityOptions
	var kafkaTLS, srTLS *tls.Config

	if cfg.offline {
		env, err := startOffline(cfg.topic)
		if err != nil {
			return err
		}
		defer env.close(say)
		say("offline: IMDS emulator, %d local Kafka brokers and a TLS Schema Registry emulator at %s, all validating tokens against %s",
			len(env.broker.Addrs()), env.registry.URL, env.issuer.JWKSURL())
		cfg.bootstrap = env.broker.Addrs()[0]
		cfg.target, cfg.clientID = env.target, ""
		cfg.logicalCluster, cfg.identityPool = offlineKafkaCluster, offlinePool
		cfg.srURL, cfg.srCluster = env.registry.URL, offlineRegistryCluster
		miOpts.HTTPClient = env.imds.Client()
		// The emulator's certificate is self-signed: trust exactly it,
		// as -sr-ca-file would for a private CA.
		srTLS = env.registry.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	} else {
		switch {
		case cfg.target == "":
			return errors.New("-target (or KAFKA_TOKEN_TARGET) is required with -bootstrap: set it to the Kafka App Registration's application ID")
		case cfg.srURL == "":
			return errors.New("-sr-url (or SCHEMA_REGISTRY_URL) is required with -bootstrap: set it to the Schema Registry endpoint, https://psrc-....confluent.cloud")
		}
		kafkaTLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.srCAFile != "" {
			pem, err := os.ReadFile(cfg.srCAFile)
			if err != nil {
				return fmt.Errorf("-sr-ca-file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("-sr-ca-file %s holds no PEM certificate; give a PEM CA bundle", cfg.srCAFile)
			}
			srTLS = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
		}
	}

	// One identity, one cached token source, shared by Kafka and the
	// registry: Confluent Cloud accepts the identity provider's token on
	// both, mapped to the identity pool.
	miOpts.Target, miOpts.ID = cfg.target, managedID(cfg.clientID)
	mi, err := azure.NewManagedIdentity(&miOpts)
	if err != nil {
		return err
	}
	defer mi.Close()

	kafkaSrc, err := confluent.WithExtensions(mi, confluent.Extensions{LogicalCluster: cfg.logicalCluster, IdentityPoolID: cfg.identityPool})
	if err != nil {
		return err
	}
	hc, err := schemaregistry.NewHTTPClient(mi, &schemaregistry.TransportOptions{
		LogicalCluster: cfg.srCluster,
		IdentityPoolID: cfg.identityPool,
		Base:           &http.Transport{TLSClientConfig: srTLS, Proxy: http.ProxyFromEnvironment},
	})
	if err != nil {
		return err
	}
	reg, err := sr.NewClient(sr.URLs(cfg.srURL), sr.HTTPClient(hc))
	if err != nil {
		return err
	}

	subject := cfg.topic + "-value"
	ss, err := reg.CreateSchema(ctx, subject, sr.Schema{Type: sr.TypeJSON, Schema: carSchema})
	if err != nil {
		return fmt.Errorf("registering the schema of %s at %s: %w", subject, cfg.srURL, err)
	}
	say("registered a JSON schema for subject %q: id %d, version %d", subject, ss.ID, ss.Version)

	// The producer knows its schema ID; the consumer discovers IDs from
	// the records and fetches unknown schemas from the registry.
	var producerSerde sr.Serde
	producerSerde.Register(ss.ID, Car{}, sr.EncodeFn(json.Marshal))

	mech, err := franzsasl.Mechanism(kafkaSrc, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.bootstrap),
		kgo.SASL(mech),
		kgo.ConsumeTopics(cfg.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if kafkaTLS != nil {
		opts = append(opts, kgo.DialTLSConfig(kafkaTLS))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	marker := []byte(fmt.Sprintf("schemaregistry-%d", time.Now().UnixNano()))
	cars := []Car{{"Tesla", "Model 3", 42000}, {"Fiat", "500", 17000}, {"Volvo", "EX30", 36000}}
	for i := range cfg.records {
		value, err := producerSerde.Encode(cars[i%len(cars)])
		if err != nil {
			return fmt.Errorf("encoding: %w", err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: cfg.topic, Key: marker, Value: value}).FirstErr(); err != nil {
			return fmt.Errorf("producing to %s: %w", cfg.topic, err)
		}
	}
	say("produced %d records to %q, each prefixed with schema id %d", cfg.records, cfg.topic, ss.ID)

	var consumerSerde sr.Serde
	got := 0
	for got < cfg.records {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %s: %w", cfg.topic, err)
		}
		for _, r := range fs.Records() {
			if string(r.Key) != string(marker) {
				continue
			}
			var car Car
			err := consumerSerde.Decode(r.Value, &car)
			if errors.Is(err, sr.ErrNotRegistered) {
				if err = learnSchema(ctx, reg, &consumerSerde, r.Value, say); err == nil {
					err = consumerSerde.Decode(r.Value, &car)
				}
			}
			if err != nil {
				return fmt.Errorf("decoding the record at offset %d: %w", r.Offset, err)
			}
			got++
			say("consumed %+v from partition %d offset %d", car, r.Partition, r.Offset)
		}
	}
	say("done: schema registered and %d records round-tripped with workload-identity tokens; no secret was configured", got)
	return nil
}

// learnSchema fetches the schema a record names from the registry and
// registers a decoder for it, as a consumer that was not told the ID does.
func learnSchema(ctx context.Context, reg *sr.Client, serde *sr.Serde, value []byte, say func(string, ...any)) error {
	id, _, err := serde.DecodeID(value)
	if err != nil {
		return err
	}
	s, err := reg.SchemaByID(ctx, id)
	if err != nil {
		return fmt.Errorf("fetching schema %d: %w", id, err)
	}
	if s.Type != sr.TypeJSON {
		return fmt.Errorf("schema %d is %s, this consumer decodes JSON only", id, s.Type)
	}
	serde.Register(id, Car{}, sr.DecodeFn(json.Unmarshal))
	say("consumer fetched schema id %d from the registry", id)
	return nil
}

// Offline cluster IDs, shaped like Confluent Cloud's.
const (
	offlineKafkaCluster    = "lkc-offln1"
	offlineRegistryCluster = "lsrc-offln1"
	offlinePool            = "pool-Offl1"
)

// offline is the local stand-in for Azure and Confluent Cloud.
type offline struct {
	issuer   *oauthbearertest.Issuer
	imds     *oauthbearertest.IMDS
	broker   *oauthbearertest.Broker
	registry *oauthbearertest.SchemaRegistry
	target   string
}

// startOffline starts an issuer standing in for Entra ID, the IMDS
// emulator, a Kafka cluster and a Schema Registry that both demand its
// tokens for target, the registry also the cluster and pool headers.
func startOffline(topic string) (_ *offline, err error) {
	env := &offline{target: randomGUID()}
	defer func() {
		if err != nil {
			env.close(func(string, ...any) {})
		}
	}()
	env.issuer = oauthbearertest.NewIssuer(nil)
	env.imds = oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{Signer: env.issuer, TokenLifetime: time.Hour})
	env.broker = oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: env.issuer, ExpectedAudience: env.target, Topics: []string{topic}, NumBrokers: 3,
	})
	env.registry = oauthbearertest.NewSchemaRegistry(&oauthbearertest.SchemaRegistryOptions{
		Issuer: env.issuer, Audience: env.target, TLS: true,
		LogicalCluster: offlineRegistryCluster, IdentityPoolID: offlinePool,
	})
	return env, nil
}

// close reports what the emulators saw (never a token) and stops them.
func (env *offline) close(say func(string, ...any)) {
	if env.registry != nil {
		if log := env.registry.Requests(); len(log) > 0 {
			refused := 0
			for _, r := range log {
				if r.Status == http.StatusUnauthorized {
					refused++
				}
			}
			last := log[len(log)-1]
			say("registry: %d requests authorized, %d refused; last %s %s answered %d", len(log)-refused, refused, last.Method, last.Path, last.Status)
		}
		env.registry.Close()
	}
	if env.broker != nil {
		if auths := env.broker.Authentications(); len(auths) > 0 {
			a := auths[len(auths)-1]
			refused := 0
			for _, a := range auths {
				if !a.Accepted {
					refused++
				}
			}
			say("brokers: %d authentications, %d refused; principal %q, extensions %v", len(auths), refused, a.Principal, a.Extensions)
		}
		env.broker.Close()
	}
	if env.imds != nil {
		env.imds.Close()
	}
	if env.issuer != nil {
		env.issuer.Close()
	}
}

// randomGUID names a fresh App Registration per run: azidentity caches
// managed-identity tokens process-wide by client and scope, and a token
// from an earlier run's emulator would not verify against this one.
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
