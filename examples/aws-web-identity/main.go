// Command aws-web-identity produces and consumes a record with franz-go on a
// Kafka cluster that validates OIDC tokens (Aiven for Apache Kafka,
// self-managed Apache Kafka 4.2+, ...), authenticated by the AWS identity it
// runs as: STS GetWebIdentityToken (IAM outbound identity federation) signs
// a JWT whose "sub" is the role's ARN. No secret.
//
// Once per account: `aws iam enable-outbound-web-identity-federation`, allow
// the role sts:GetWebIdentityToken, and configure the cluster with the
// account's issuer (`aws iam get-outbound-web-identity-federation-info`),
// the audience, and "sub" as the principal claim. On EC2, ECS, Lambda or EKS:
//
//	AWS_REGION=eu-west-1 go run ./examples/aws-web-identity \
//		-bootstrap kafka-xxxx.aivencloud.com:12345 -ca-file ca.pem \
//		-audience kafka-xxxx.aivencloud.com -topic my-topic
//
// Credentials and region come from the AWS SDK's default chain. -offline
// runs the same code against an STS emulator and brokers that validate its
// tokens.
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
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap, audience, caFile, topic string
	offline                            bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap server, host:port (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&cfg.audience, "audience", os.Getenv("KAFKA_OAUTH_AUDIENCE"), "the audience the cluster expects, often its host name (env KAFKA_OAUTH_AUDIENCE)")
	flag.StringVar(&cfg.caFile, "ca-file", os.Getenv("KAFKA_CA_FILE"), "PEM file of the CA of the brokers' certificates, such as Aiven's project CA (env KAFKA_CA_FILE); empty: system roots")
	flag.StringVar(&cfg.topic, "topic", "my-topic", "topic; the role's ARN needs Write and Read ACLs on it")
	flag.BoolVar(&cfg.offline, "offline", false, "run against local emulators instead of AWS and a real cluster")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "aws-web-identity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.offline {
		// Sets AWS_REGION, AWS_ENDPOINT_URL_STS and test credentials, as
		// the platform would set the role's.
		env, err := offline.Start(offline.AWSWebIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() { fmt.Fprint(out, env.Summary()) }()
		cfg.bootstrap, cfg.audience = env.Bootstrap, env.Audience
	}
	if cfg.bootstrap == "" || cfg.audience == "" {
		return errors.New("-bootstrap and -audience are required (or -offline): set them to the cluster's bootstrap server and the audience it expects")
	}

	// One source per process: it calls STS once and again in the
	// background before the token expires. An hour is the longest
	// lifetime STS grants; the role's policy may cap it.
	src, err := awsid.NewWebIdentity(ctx, &awsid.WebIdentityOptions{Audience: []string{cfg.audience}, Lifetime: time.Hour})
	if err != nil {
		return err
	}
	defer src.Close()
	// Fetch once up front so that a missing permission shows as itself,
	// with the fix, not as a broker failure. Print the principal only.
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "STS signed a token for %s (audience %s), valid for %s\n", tok.Principal, cfg.audience, time.Until(tok.Expiry).Round(time.Minute))

	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.bootstrap), kgo.SASL(mech)}
	if !cfg.offline { // the local brokers speak plain TCP
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.caFile != "" {
			pem, err := os.ReadFile(cfg.caFile)
			if err != nil {
				return fmt.Errorf("-ca-file: %w", err)
			}
			if tlsCfg.RootCAs = x509.NewCertPool(); !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				return fmt.Errorf("-ca-file %s holds no PEM certificate; download the CA certificate from the cluster's console", cfg.caFile)
			}
		}
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
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
	fmt.Fprintf(out, "produced and consumed %q as %s; no secret configured\n", fs.Records()[0].Value, tok.Principal)
	return nil
}
