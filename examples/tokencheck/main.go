// Command tokencheck fetches one token with the same settings as this
// module's token sources and prints what the token says (v1 or v2, issuer,
// audience, subject, remaining life, which identity answered, likely
// problems) without ever printing the token. With -bootstrap it also tries
// a SASL/OAUTHBEARER handshake with franz-go and prints the broker's
// verdict: accepted, or the rejection with its usual causes.
//
//	go run ./examples/tokencheck -source azure-mi -audience <kafka-app-id>
//	go run ./examples/tokencheck -source azure-wi -audience api://kafka -bootstrap pkc-xxxx:9092
//	go run ./examples/tokencheck -source aws -audience kafka.example.com -region us-east-1
//	go run ./examples/tokencheck -source confluent-sts -audience <app-id> -identity-pool pool-xxxx
//	go run ./examples/tokencheck -source client-credentials -token-url https://idp/token -client-id x  # secret from OAUTH_CLIENT_SECRET
//
// -offline starts the test bench (an identity provider emulator for the
// chosen source and an in-process broker validating tokens against its
// JWKS) and checks against that; -offline-reject makes that broker expect
// another audience, to show a rejection.
//
// See docs/troubleshooting.md for what each verdict means.
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
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/twmb/franz-go/pkg/kgo"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Sources tokencheck can check.
const (
	srcAzureMI           = "azure-mi"
	srcAzureWI           = "azure-wi"
	srcAzureDefault      = "azure-default"
	srcAWS               = "aws"
	srcConfluentSTS      = "confluent-sts"
	srcClientCredentials = "client-credentials"
)

type config struct {
	source         string
	clientID       string // Azure user-assigned identity / OAuth client ID
	audience       string // Azure: app ID, api:// URI or .default scope; AWS: comma-separated audiences
	region         string // AWS
	identityPool   string // Confluent STS pool, and identityPoolId extension
	logicalCluster string // logicalCluster extension
	stsEndpoint    string
	tokenURL       string
	clientSecret   string
	scope          string
	bootstrap      string
	tls            bool
	offline        bool
	offlineReject  bool
}

func main() {
	var c config
	cli.String(&c.source, "source", "TOKENCHECK_SOURCE", srcAzureMI, "token source: azure-mi, azure-wi, azure-default, aws, confluent-sts or client-credentials")
	cli.String(&c.clientID, "client-id", "AZURE_CLIENT_ID", "", "azure-mi: user-assigned identity's client ID; client-credentials: the OAuth client ID")
	cli.String(&c.audience, "audience", "KAFKA_OAUTH_AUDIENCE", "", "Azure and confluent-sts: the Kafka App Registration's application ID, api:// URI or .default scope; aws: audiences, comma-separated")
	flag.StringVar(&c.region, "region", "", "aws: region (default AWS_REGION or the shared config)")
	flag.StringVar(&c.identityPool, "identity-pool", "", "confluent-sts: identity pool (pool-...); also sent as the identityPoolId extension")
	flag.StringVar(&c.logicalCluster, "logical-cluster", "", "Confluent Cloud logicalCluster extension (lkc-...)")
	flag.StringVar(&c.stsEndpoint, "sts-endpoint", "", "confluent-sts: endpoint (default "+confluent.DefaultSTSTokenURL+")")
	cli.String(&c.tokenURL, "token-url", "OAUTH_TOKEN_URL", "", "client-credentials: token endpoint")
	cli.String(&c.scope, "scope", "OAUTH_SCOPE", "", "client-credentials: scope")
	cli.String(&c.bootstrap, "bootstrap", "KAFKA_BOOTSTRAP", "", "host:port of a broker to try a SASL/OAUTHBEARER handshake with")
	flag.BoolVar(&c.tls, "tls", true, "use TLS to the broker")
	flag.BoolVar(&c.offline, "offline", false, "start local emulators and an in-process broker and check against them")
	flag.BoolVar(&c.offlineReject, "offline-reject", false, "with -offline: the broker expects another audience, so it rejects the token")
	c.clientSecret = os.Getenv("OAUTH_CLIENT_SECRET") // never a flag: it would show in ps
	cli.Main("tokencheck", &c, config.run)
}

// run fetches one token, reports on it and optionally tries the broker.
// It returns an error when no token could be fetched; a broker rejection
// is a verdict, printed, not an error.
func (c config) run(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	var azHTTP *http.Client
	if c.offline {
		env, err := startOffline(&c)
		if err != nil {
			return err
		}
		defer env.Close()
		azHTTP = env.HTTPClient
		say("offline: started %s", env.Described)
	}

	src, closeSrc, err := newSource(ctx, c, azHTTP)
	if err != nil {
		return err
	}
	defer closeSrc()
	if c.logicalCluster != "" || c.identityPool != "" {
		if src, err = confluent.WithExtensions(src, confluent.Extensions{LogicalCluster: c.logicalCluster, IdentityPoolID: c.identityPool}); err != nil {
			return err
		}
	}

	start := time.Now()
	tok, err := src.Token(ctx)
	if err != nil {
		return fmt.Errorf("%s: no token: %w", c.source, err)
	}
	say("source:       %s (token fetched in %s)", c.source, time.Since(start).Round(time.Millisecond))
	say("answered by:  %s", orNone(tok.Principal))
	report(say, tok)

	if c.bootstrap == "" {
		say("broker:       not tried (set -bootstrap host:port)")
		return nil
	}
	say("broker:       %s", handshake(ctx, c, src))
	return nil
}

// report prints the token's claims, never the token.
func report(say func(string, ...any), tok oauthbearer.Token) {
	say("token:        %d bytes, expires %s (in %s)", len(tok.Value), tok.Expiry.UTC().Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))
	if len(tok.Extensions) > 0 {
		keys := make([]string, 0, len(tok.Extensions))
		for k, v := range tok.Extensions {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		say("extensions:   %s", strings.Join(keys, " "))
	}
	rep, err := azure.Diagnose(tok.Value)
	if err != nil {
		say("claims:       not a JWT (%v); brokers validating JWTs will reject it", err)
		return
	}
	version := "v2 (or not an Entra token)"
	if rep.IsV1() {
		version = "v1: Confluent Cloud and most validators reject it"
	} else if rep.Version == "2.0" {
		version = "v2"
	}
	say("version:      %s", version)
	say("issuer:       %s", orNone(rep.Issuer))
	say("audience:     %s", orNone(rep.Audience))
	say("subject:      %s", orNone(rep.Subject))
	if rep.ObjectID != "" || rep.TenantID != "" || rep.AppID != "" {
		say("entra:        oid=%s tid=%s app=%s", orNone(rep.ObjectID), orNone(rep.TenantID), orNone(rep.AppID))
	}
	if !rep.Expiry.IsZero() {
		say("remaining:    %s (exp %s)", rep.Remaining, rep.Expiry.UTC().Format(time.RFC3339))
	}
	problems := rep.Problems()
	if len(problems) == 0 {
		say("problems:     none found in the claims")
	}
	for _, p := range problems {
		say("problem:      %s", p)
	}
}

// handshake connects to the broker with the token and returns its
// verdict.
func handshake(ctx context.Context, c config, src oauthbearer.TokenSource) string {
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err.Error()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.bootstrap),
		kgo.SASL(mech),
		kgo.RequestRetries(0),
	}
	if c.tls {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return "not tried: " + err.Error()
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = cl.Ping(pctx)
	var rej *oauthbearer.RejectedError
	switch {
	case err == nil:
		return "ACCEPTED: the SASL/OAUTHBEARER handshake succeeded"
	case errors.As(err, &rej):
		return "REJECTED: " + rej.Error()
	default:
		return "no verdict: " + err.Error()
	}
}

// newSource builds the source the flags describe.
func newSource(ctx context.Context, c config, azHTTP *http.Client) (oauthbearer.TokenSource, func() error, error) {
	switch c.source {
	case srcAzureMI:
		s, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: c.audience, ID: managedID(c.clientID), HTTPClient: azHTTP})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case srcAzureWI:
		s, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: c.audience, HTTPClient: azHTTP, DisableInstanceDiscovery: c.offline})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case srcAzureDefault:
		s, err := azure.NewDefaultChain(&azure.DefaultChainOptions{Audience: c.audience, HTTPClient: azHTTP})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case srcAWS:
		o := &awsid.WebIdentityOptions{Region: c.region}
		for _, a := range strings.Split(c.audience, ",") {
			if a = strings.TrimSpace(a); a != "" {
				o.Audience = append(o.Audience, a)
			}
		}
		s, err := awsid.NewWebIdentity(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case srcConfluentSTS:
		subj, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: c.audience, ID: managedID(c.clientID), HTTPClient: azHTTP})
		if err != nil {
			return nil, nil, err
		}
		s, err := confluent.NewSTS(subj, &confluent.STSOptions{IdentityPoolID: c.identityPool, TokenURL: c.stsEndpoint})
		if err != nil {
			subj.Close()
			return nil, nil, err
		}
		return s, func() error { return errors.Join(s.Close(), subj.Close()) }, nil
	case srcClientCredentials:
		s, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
			TokenURL: c.tokenURL, ClientID: c.clientID, ClientSecret: oauthclient.Secret(c.clientSecret), Scope: c.scope,
		})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	return nil, nil, fmt.Errorf("-source is %q; use %s, %s, %s, %s, %s or %s", c.source,
		srcAzureMI, srcAzureWI, srcAzureDefault, srcAWS, srcConfluentSTS, srcClientCredentials)
}

// startOffline starts the emulators for c.source and an in-process broker
// validating their tokens, and points c at them.
func startOffline(c *config) (*offline.Env, error) {
	kinds := map[string]offline.Kind{srcAzureMI: offline.AzureManagedIdentity, srcAzureWI: offline.AzureWorkloadIdentity,
		srcAWS: offline.AWSWebIdentity, srcClientCredentials: offline.ClientCredentials}
	kind, ok := kinds[c.source]
	if !ok {
		return nil, fmt.Errorf("-offline supports -source %s, %s, %s and %s", srcAzureMI, srcAzureWI, srcAWS, srcClientCredentials)
	}
	env, err := offline.Start(kind, &offline.Options{WrongAudience: c.offlineReject})
	if err != nil {
		return nil, err
	}
	c.bootstrap, c.tls, c.audience = env.Bootstrap, false, env.Audience
	if kind == offline.ClientCredentials {
		c.tokenURL, c.clientID, c.clientSecret = env.TokenURL, env.ClientID, env.ClientSecret
	}
	return env, nil
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// managedID selects a user-assigned identity by client ID, or the
// system-assigned one when id is empty.
func managedID(id string) azidentity.ManagedIDKind {
	if id == "" {
		return nil
	}
	return azidentity.ClientID(id)
}
