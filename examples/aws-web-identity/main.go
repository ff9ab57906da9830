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
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

type config struct {
	bootstrap, audience, caFile, topic string
	offline                            bool
}

func main() {
	var cfg config
	cli.Kafka(&cfg.bootstrap, &cfg.topic, &cfg.offline, "my-topic", "AWS and a real cluster")
	cli.String(&cfg.audience, "audience", "KAFKA_OAUTH_AUDIENCE", "", "the audience the cluster expects, often its host name")
	cli.String(&cfg.caFile, "ca-file", "KAFKA_CA_FILE", "", "PEM file of the CA of the brokers' certificates, such as Aiven's project CA; empty: system roots")
	cli.Main("aws-web-identity", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		// Sets AWS_REGION, AWS_ENDPOINT_URL_STS and test credentials, as
		// the platform would set the role's.
		env, err := offline.Start(offline.AWSWebIdentity, &offline.Options{Topic: cfg.topic})
		if err != nil {
			return err
		}
		defer env.Report(out)
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

	tlsOpt := roundtrip.TLS(cfg.offline) // the local brokers speak plain TCP
	if cfg.caFile != "" {
		if tlsOpt, err = roundtrip.CAFile(cfg.caFile); err != nil {
			return err
		}
	}
	// The Kafka client: the source becomes its SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(cfg.bootstrap, ",")...), kgo.SASL(mech), tlsOpt)
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, cfg.topic, []byte("hello from "+tok.Principal))
}
