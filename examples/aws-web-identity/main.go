// Command aws-web-identity produces and consumes a few records with
// franz-go on a Kafka cluster that validates OIDC tokens (Aiven for Apache
// Kafka, self-managed Apache Kafka 4.2+, ...), authenticated by the AWS
// identity it runs as: STS GetWebIdentityToken (IAM outbound identity
// federation) signs a JWT whose "sub" is the role's ARN. No secret.
//
// Once per account: `aws iam enable-outbound-web-identity-federation`, allow
// the role sts:GetWebIdentityToken with the sts:IdentityTokenAudience
// condition, and configure the cluster with the account's issuer
// (`aws iam get-outbound-web-identity-federation-info`), its
// /.well-known/jwks.json, the audience, and "sub" as the principal claim.
// ACLs then name User:<role ARN>. On EC2, ECS, Lambda or EKS:
//
//	AWS_REGION=eu-west-1 go run ./examples/aws-web-identity \
//		-bootstrap kafka-xxxx.aivencloud.com:12345 -ca-file ca.pem \
//		-audience kafka-xxxx.aivencloud.com -topic my-topic
//
// Credentials and region come from the AWS SDK's default chain. Anywhere
// else, -offline runs the same code against an STS emulator and brokers
// that validate its tokens:
//
//	go run ./examples/aws-web-identity -offline
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap string
	audience  string
	region    string
	caFile    string
	duration  time.Duration
	topic     string
	records   int
	offline   bool

	// Set only by -offline: points the source at the STS emulator with
	// test credentials, and no TLS to the local brokers.
	offlineOptions func(*awsid.WebIdentityOptions)
	plaintext      bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap server, host:port (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.audience, "audience", os.Getenv("KAFKA_OAUTH_AUDIENCE"), "the audience the cluster expects, often its host name (env KAFKA_OAUTH_AUDIENCE)")
	flag.StringVar(&cfg.region, "region", "", "AWS region whose STS endpoint signs the token; default AWS_REGION or the profile's region")
	flag.StringVar(&cfg.caFile, "ca-file", os.Getenv("KAFKA_CA_FILE"), "PEM file of the CA that signed the brokers' certificates, such as Aiven's project CA (env KAFKA_CA_FILE); default: system roots")
	flag.DurationVar(&cfg.duration, "duration", time.Hour, "token lifetime to request, 1m to 1h; the IAM policy may cap it with sts:DurationSeconds")
	flag.StringVar(&cfg.topic, "topic", "my-topic", "topic to produce to and consume from; the role's ARN needs Write and Read ACLs on it")
	flag.IntVar(&cfg.records, "records", 3, "how many records to produce and consume")
	flag.BoolVar(&cfg.offline, "offline", false, "run against a local STS emulator and local validating brokers instead of AWS and a real cluster")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "aws-web-identity:", err)
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
	if cfg.bootstrap == "" || cfg.audience == "" {
		return errors.New("-bootstrap and -audience are required (or -offline): set them to the cluster's bootstrap server and the audience it expects")
	}

	// One source per process: it calls STS once, then again in the
	// background before the token expires; every connection and
	// re-authentication reuses the cached token. Throttling is retried
	// with backoff while the current token keeps being served.
	opts := &awsid.WebIdentityOptions{
		Audiences: []string{cfg.audience},
		Duration:  cfg.duration,
		Region:    cfg.region,
	}
	if cfg.offlineOptions != nil {
		cfg.offlineOptions(opts)
	}
	src, err := awsid.NewWebIdentity(ctx, opts)
	if err != nil {
		return err
	}
	defer src.Close()

	// Fetch once up front so that a missing permission or a disabled
	// federation shows as itself (with the fix), not as a broker
	// failure. Print the principal, never the token.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	say("got a token from STS for %s (audience %s), valid for %s", tok.Principal, cfg.audience,
		time.Until(tok.Expiry).Round(time.Minute))

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	kopts := []kgo.Opt{
		kgo.SeedBrokers(cfg.bootstrap),
		kgo.SASL(mech),
	}
	if !cfg.plaintext {
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.caFile != "" {
			pem, err := os.ReadFile(cfg.caFile)
			if err != nil {
				return fmt.Errorf("-ca-file: %w", err)
			}
			tlsCfg.RootCAs = x509.NewCertPool()
			if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				return fmt.Errorf("-ca-file %s holds no PEM certificate; download the CA certificate from the cluster's console", cfg.caFile)
			}
		}
		kopts = append(kopts, kgo.DialTLSConfig(tlsCfg))
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// Produce, remembering where the records landed, then read exactly
	// those back: no consumer group (so no group ACL) and no scan of the
	// whole topic.
	start := map[int32]int64{}
	for i := range cfg.records {
		rec := &kgo.Record{Topic: cfg.topic, Value: fmt.Appendf(nil, "record %d from %s", i+1, tok.Principal)}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("producing to %q: %w", cfg.topic, err)
		}
		if off, ok := start[rec.Partition]; !ok || rec.Offset < off {
			start[rec.Partition] = rec.Offset
		}
	}
	say("produced %d records to %q", cfg.records, cfg.topic)

	offsets := map[int32]kgo.Offset{}
	for p, off := range start {
		offsets[p] = kgo.NewOffset().At(off)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: offsets})
	for got := 0; got < cfg.records; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %q: %w", cfg.topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			say("consumed %q from partition %d offset %d", r.Value, r.Partition, r.Offset)
		})
	}
	say("done: %d records produced and consumed as %s; no secret configured", cfg.records, tok.Principal)
	return nil
}
