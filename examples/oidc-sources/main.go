// Command oidc-sources produces and consumes with franz-go using one of the
// two generic OIDC sources, for Kafka clusters that trust an OIDC issuer
// outside the three clouds:
//
//   - token-file: a pod's projected service-account token for a custom
//     audience (self-managed Kafka trusting the cluster's issuer, Strimzi),
//     or a token a SPIFFE or Vault sidecar writes. The kubelet rewrites the
//     file; the source rereads it.
//
//   - jwt-bearer: a service whose private key is registered with the
//     identity provider (Okta, Keycloak, Entra) signs an RFC 7523 assertion
//     and exchanges it for an access token.
//
//     go run ./examples/oidc-sources -source token-file -token-file /var/run/secrets/tokens/kafka-token -bootstrap kafka:9093
//     OAUTH_PRIVATE_KEY_PASSPHRASE=... go run ./examples/oidc-sources -source jwt-bearer \
//     -token-url https://idp.example.com/oauth2/token -client-id orders-svc -key-file key.pem -bootstrap kafka:9093
//
// -offline runs the same code against a local issuer, identity provider and
// brokers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

type config struct {
	source, bootstrap, topic    string
	tokenFile                   string // token-file
	tokenURL, clientID, keyFile string // jwt-bearer
	passphrase                  oauthclient.Secret
	scope                       string
	offline, plaintext          bool
}

func main() {
	var c config
	flag.StringVar(&c.source, "source", "token-file", "token-file or jwt-bearer")
	flag.StringVar(&c.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap server (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&c.topic, "topic", "oidc-demo", "topic to produce to and consume from")
	flag.StringVar(&c.tokenFile, "token-file", "/var/run/secrets/tokens/kafka-token", "projected token file (token-file)")
	flag.StringVar(&c.tokenURL, "token-url", os.Getenv("OAUTH_TOKEN_URL"), "identity provider's token endpoint (jwt-bearer; env OAUTH_TOKEN_URL)")
	flag.StringVar(&c.clientID, "client-id", os.Getenv("OAUTH_CLIENT_ID"), "the assertion's iss and sub (jwt-bearer; env OAUTH_CLIENT_ID)")
	flag.StringVar(&c.keyFile, "key-file", os.Getenv("OAUTH_PRIVATE_KEY_FILE"), "PEM private key (jwt-bearer; env OAUTH_PRIVATE_KEY_FILE)")
	flag.StringVar(&c.scope, "scope", "", "scope to request (jwt-bearer)")
	flag.BoolVar(&c.offline, "offline", false, "run against local emulators")
	flag.Parse()
	c.passphrase = oauthclient.Secret(os.Getenv("OAUTH_PRIVATE_KEY_PASSPHRASE")) // never a flag: it would show in ps
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-sources:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, c config) error {
	if c.offline {
		env, err := offline.Start(offline.Kind(c.source), &offline.Options{Topic: c.topic})
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() { fmt.Fprint(out, env.Summary()) }()
		fmt.Fprintln(out, "offline:", env.Described)
		c.bootstrap, c.plaintext, c.tokenFile, c.tokenURL, c.clientID, c.keyFile, c.scope =
			env.Bootstrap, true, env.TokenFile, env.TokenURL, env.ClientID, env.PrivateKeyFile, "kafka"
	}
	var src *oauthbearer.Cache
	var err error
	switch c.source {
	case "token-file":
		src, err = tokenfile.New(&tokenfile.Options{Path: c.tokenFile})
	case "jwt-bearer":
		src, err = oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: c.tokenURL, PrivateKeyFile: c.keyFile,
			PrivateKeyPassphrase: c.passphrase, Issuer: c.clientID, Subject: c.clientID, Scope: c.scope})
	default:
		return fmt.Errorf("-source is %q; use token-file or jwt-bearer", c.source)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.bootstrap), kgo.SASL(mech)}
	if !c.plaintext {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: c.topic, Value: []byte("authenticated by " + c.source)}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", c.topic, err)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	if fs := cl.PollFetches(ctx); fs.Err0() != nil {
		return fmt.Errorf("consuming from %s: %w", c.topic, fs.Err0())
	}
	fmt.Fprintf(out, "%s: produced and consumed a record at partition %d offset %d\n", c.source, rec.Partition, rec.Offset)
	return nil
}
