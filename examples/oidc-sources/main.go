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
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
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
	cli.Kafka(&c.bootstrap, &c.topic, &c.offline, "oidc-demo", "an identity provider and a real cluster")
	flag.StringVar(&c.tokenFile, "token-file", "/var/run/secrets/tokens/kafka-token", "projected token file (token-file)")
	cli.String(&c.tokenURL, "token-url", "OAUTH_TOKEN_URL", "", "identity provider's token endpoint (jwt-bearer)")
	cli.String(&c.clientID, "client-id", "OAUTH_CLIENT_ID", "", "the assertion's iss and sub (jwt-bearer)")
	cli.String(&c.keyFile, "key-file", "OAUTH_PRIVATE_KEY_FILE", "", "PEM private key (jwt-bearer)")
	flag.StringVar(&c.scope, "scope", "", "scope to request (jwt-bearer)")
	c.passphrase = oauthclient.Secret(os.Getenv("OAUTH_PRIVATE_KEY_PASSPHRASE")) // never a flag: it would show in ps
	cli.Main("oidc-sources", &c, config.run)
}

func (c config) run(ctx context.Context, out io.Writer) error {
	if c.offline {
		env, err := offline.Start(offline.Kind(c.source), &offline.Options{Topic: c.topic})
		if err != nil {
			return err
		}
		defer env.Report(out)
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
		src, err = oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: c.tokenURL, Scope: c.scope,
			Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: c.keyFile, PrivateKeyPassphrase: c.passphrase, Issuer: c.clientID, Subject: c.clientID}})
	default:
		return fmt.Errorf("-source is %q; use token-file or jwt-bearer", c.source)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	// The Kafka client: the source becomes its SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...), kgo.SASL(mech), roundtrip.TLS(c.plaintext))
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, c.topic, []byte("authenticated by "+c.source))
}
