// Package offline is the examples' -offline mode: it starts the emulators
// of package idptest and the in-process broker of package oauthbearertest
// in place of a cloud and a Kafka cluster, and returns the settings a program would otherwise get
// from its platform: bootstrap servers, the token audience, the identity
// endpoint's HTTP client, the environment variables a pod or VM has. The
// examples then run their production code unchanged with those settings.
//
// Nothing here is needed on a real platform, and nothing here is part of
// what an example shows. What to copy from an example's main.go is the
// code after its -offline branch that builds the token source and hands it
// to the Kafka client (or HTTP client); the -offline branch, the flags
// (package cli) and the round trip on the built client (package
// roundtrip) are scaffolding to replace with your own. The package does
// not import testing: the emulators' TB is a program's own (see [stack]).
package offline

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// Kind names the platform an example runs on, so the identity provider to
// emulate.
type Kind string

// The platforms Start can stand in for.
const (
	// AzureManagedIdentity: an Azure VM or AKS node with a managed
	// identity (IMDS emulator; Env.HTTPClient reaches it).
	AzureManagedIdentity Kind = "azure-managed-identity"
	// AzureWorkloadIdentity: an AKS pod with workload identity (a
	// Kubernetes issuer, a projected token file, an Entra ID emulator; the
	// AZURE_* variables are set in the process environment).
	AzureWorkloadIdentity Kind = "azure-workload-identity"
	// AWSWebIdentity: an AWS workload calling STS GetWebIdentityToken (an
	// STS emulator; the AWS_* variables are set in the process
	// environment).
	AWSWebIdentity Kind = "aws-web-identity"
	// GCPManagedKafka: a GCE VM, GKE pod or Cloud Run service whose
	// Application Default Credentials are the metadata server (a GCE
	// metadata server emulator at GCE_METADATA_HOST, set in the process
	// environment), and brokers in Google Managed Kafka mode.
	GCPManagedKafka Kind = "gcp-managed-kafka"
	// GCPIDToken: the same metadata server, and brokers that validate its
	// ID tokens (issuer and JWKS of the emulated Google) for
	// Env.Audience.
	GCPIDToken Kind = "gcp-id-token"
	// ClientCredentials: an OAuth 2.0 identity provider with a registered
	// client (Env.TokenURL, ClientID, ClientSecret).
	ClientCredentials Kind = "client-credentials"
	// ConfluentControlPlane: an Azure VM (IMDS emulator) whose token is
	// exchanged at Confluent Cloud's STS (Env.STSEndpoint) for the
	// Confluent Cloud API (Env.APIURL). No brokers.
	ConfluentControlPlane Kind = "confluent-control-plane"
)

// IDs shaped like Confluent Cloud's, used by every offline run.
const (
	LogicalCluster  = "lkc-offln1"
	IdentityPool    = "pool-Offl1"
	RegistryCluster = "lsrc-offln1"
)

// Options says what else to start.
type Options struct {
	// Topic is created on the brokers.
	Topic string
	// SchemaRegistry also starts a Schema Registry that validates the same
	// tokens and requires RegistryCluster and IdentityPool as headers.
	SchemaRegistry bool
	// WrongAudience makes the brokers expect another audience than the
	// tokens carry, to show a rejection.
	WrongAudience bool
}

// Env is a running offline platform: the settings to use in place of the
// real ones, and what the emulators saw.
type Env struct {
	// Bootstrap is the seed broker, host:port (plain TCP, no TLS).
	Bootstrap string
	// Audience is the audience the brokers expect: an App Registration's
	// application ID for the Azure kinds and ConfluentControlPlane, the
	// cluster's audience for the others.
	Audience string
	// ClientID is a user-assigned managed identity's client ID (Azure
	// managed identity), or the OAuth client's ID (client credentials).
	ClientID string
	// ClientSecret is the OAuth client's secret (client credentials).
	ClientSecret string
	// TokenURL is the OAuth token endpoint (client credentials).
	TokenURL string
	// HTTPClient reaches the emulated identity endpoint (IMDS at
	// 169.254.169.254, or Entra ID over TLS); nil for the other kinds.
	HTTPClient *http.Client
	// DisableInstanceDiscovery is true for the Entra emulator, which does
	// not serve Microsoft's instance discovery document.
	DisableInstanceDiscovery bool
	// STSEndpoint and APIURL are the Confluent STS token exchange and a
	// stand-in for the Confluent Cloud API (ConfluentControlPlane).
	STSEndpoint, APIURL string
	// RegistryURL is the Schema Registry (Options.SchemaRegistry).
	RegistryURL string
	// Described says in one line what was started.
	Described string
	// OIDCEnv: the files of the TokenFile and JWTBearer kinds.
	OIDCEnv

	idp     *idptest.Server // the identity provider whose tokens are counted
	idpName string
	broker  *oauthbearertest.Broker
	reg     *idptest.SchemaRegistry
	api     *controlPlane
	run     stack
}

// Start starts the emulators for kind. Close the Env when done: it stops
// them, restores the environment and removes any file written. If
// anything cannot start, Start stops what it started and returns the
// error.
func Start(kind Kind, opts *Options) (*Env, error) {
	e := &Env{}
	if err := e.run.start(func() error { return e.start(kind, opts) }); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) start(kind Kind, opts *Options) error {
	var o Options
	if opts != nil {
		o = *opts
	}
	t := &e.run
	issuer := idptest.NewIssuer(t, nil)
	// Azure IDs are fresh per run: azidentity caches tokens process-wide
	// by client and scope, and a token from an earlier run's emulator
	// would not verify against this one.
	e.Audience = guid()
	broker := &oauthbearertest.BrokerOptions{Issuer: issuer, ExpectedAudience: e.Audience}

	switch kind {
	case AzureManagedIdentity, ConfluentControlPlane:
		e.ClientID = guid()
		imds := idptest.NewIMDS(t, &idptest.IMDSOptions{
			Signer: issuer, Lifetime: time.Hour,
			UserAssigned: []idptest.ManagedIdentity{{ClientID: e.ClientID}},
		})
		e.HTTPClient, e.idp, e.idpName = imds.Client(), imds.Server, "the IMDS emulator"
		e.Described = "an Azure IMDS emulator"
		if kind == ConfluentControlPlane {
			return e.startControlPlane(issuer)
		}
	case AzureWorkloadIdentity:
		if err := e.startWorkloadIdentity(issuer, broker); err != nil {
			return err
		}
	case AWSWebIdentity:
		const region, role = "eu-west-1", "arn:aws:iam::123456789012:role/kafka-workload"
		sts := idptest.NewSTS(t, &idptest.STSOptions{Region: region, RoleARN: role})
		e.idp, e.idpName = sts.Server, "the STS emulator"
		// On AWS the SDK's default chain finds the role's credentials;
		// here any access key will do, and STS is the emulator.
		e.setenv(map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIAOFFLINEEXAMPLE", "AWS_SECRET_ACCESS_KEY": Secrets[0],
			"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": region, "AWS_ENDPOINT_URL_STS": sts.URL,
		})
		// Configured as Aiven's guide configures its cluster: the
		// account's issuer and JWKS, the audience, "sub" as principal.
		e.Audience = "kafka-orders-acme.a.aivencloud.com"
		broker = &oauthbearertest.BrokerOptions{JWKSURL: sts.JWKSURL, ExpectedIssuer: sts.IssuerURL,
			ExpectedAudience: e.Audience, SubClaimName: "sub"}
		e.Described = "an AWS STS emulator for " + role + " in " + region
	case GCPManagedKafka, GCPIDToken:
		gce := idptest.NewGCE(t, &idptest.GCEOptions{Signer: issuer, Email: "orders@acme-prod.iam.gserviceaccount.com"})
		e.idp, e.idpName = gce.Server, "the GCE metadata server emulator"
		// ADC finds no credentials file (HOME is an empty directory, so no
		// gcloud file either) and uses the metadata server, as on GKE.
		home, err := e.tempDir("offline-home-")
		if err != nil {
			return err
		}
		e.setenv(map[string]string{"GCE_METADATA_HOST": gce.Host, "GOOGLE_APPLICATION_CREDENTIALS": "", "HOME": home})
		if kind == GCPManagedKafka {
			e.Audience = "" // Google access tokens carry no audience the brokers check
			broker = &oauthbearertest.BrokerOptions{GoogleAccessTokens: gce}
			e.Described = "a GCE metadata server emulator for " + gce.Email + " and 3 local Kafka brokers in Google Managed Kafka mode"
		} else {
			e.Audience = "kafka.orders.example.com"
			broker = &oauthbearertest.BrokerOptions{Issuer: gce.Signer, ExpectedAudience: e.Audience}
			e.Described = "a GCE metadata server emulator for " + gce.Email + " and 3 local Kafka brokers validating its ID tokens for audience " + e.Audience
		}
	case ClientCredentials:
		e.Audience, e.ClientID, e.ClientSecret = "kafka", "orders-svc", Secrets[1]
		idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
			Signer: issuer, Audience: e.Audience,
			Clients: map[string]idptest.OAuthClient{e.ClientID: {Secret: e.ClientSecret, Scopes: []string{"kafka"}}},
		})
		e.TokenURL, e.idp, e.idpName = idp.TokenURL, idp.Server, "the OAuth server"
		broker.ExpectedAudience = e.Audience
		e.Described = "an OAuth client-credentials server"
	case TokenFile, JWTBearer:
		if err := e.startOIDC(kind, issuer, broker); err != nil {
			return err
		}
	default:
		return fmt.Errorf("offline: no emulator for %q", kind)
	}

	if o.WrongAudience {
		broker.ExpectedAudience = "some-other-audience"
	}
	if o.Topic != "" {
		broker.Topics = []string{o.Topic}
	}
	broker.Partitions, broker.NumBrokers = 3, 3
	e.broker = oauthbearertest.NewBroker(t, broker)
	e.Bootstrap = e.broker.Addrs()[0]
	if kind != GCPManagedKafka && kind != GCPIDToken {
		e.Described += fmt.Sprintf(" and 3 local Kafka brokers validating its tokens for audience %s", broker.ExpectedAudience)
	}

	if o.SchemaRegistry {
		e.reg = idptest.NewSchemaRegistry(t, &idptest.SchemaRegistryOptions{
			Issuer: issuer, ExpectedIssuer: broker.ExpectedIssuer, // Entra's tenant issuer for workload identity
			ExpectedAudience: e.Audience, LogicalCluster: RegistryCluster, IdentityPoolID: IdentityPool,
		})
		e.RegistryURL = e.reg.URL
		e.Described += ", and a Schema Registry validating them too"
	}
	return nil
}

// startWorkloadIdentity starts an AKS-style service-account issuer, an
// Entra ID emulator trusting it, writes the projected token file as the
// kubelet does, and sets the variables the workload identity webhook
// injects.
func (e *Env) startWorkloadIdentity(entraKeys *idptest.Issuer, broker *oauthbearertest.BrokerOptions) error {
	const tenant, serviceAccount = "b52245db-4800-4792-975a-1d9ed49512f2", "system:serviceaccount:orders:producer"
	e.ClientID = guid()
	kubernetes := idptest.NewIssuer(&e.run, nil)
	entra := idptest.NewEntra(&e.run, &idptest.EntraOptions{
		Signer: entraKeys,
		Apps: []idptest.EntraApp{{TenantID: tenant, ClientID: e.ClientID,
			Federated: []idptest.FederatedCredential{{Issuer: kubernetes.IssuerURL, Subject: serviceAccount}}}},
	})
	// Entra's v2 tokens carry the tenant's issuer, not the signer's URL.
	broker.ExpectedIssuer = entra.IssuerURL(tenant)
	dir, err := e.tempDir("offline-")
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(dir, "azure-identity-token")
	if err := os.WriteFile(tokenFile, []byte(kubernetes.Mint(serviceAccount, "api://AzureADTokenExchange", time.Hour, nil)), 0o600); err != nil {
		return err
	}
	e.setenv(map[string]string{
		"AZURE_CLIENT_ID": e.ClientID, "AZURE_TENANT_ID": tenant,
		"AZURE_FEDERATED_TOKEN_FILE": tokenFile, "AZURE_AUTHORITY_HOST": entra.URL,
	})
	e.HTTPClient, e.DisableInstanceDiscovery = entra.Client(), true
	e.idp, e.idpName = entra.Server, "the Entra ID emulator"
	e.Described = "an Entra ID emulator trusting service account " + serviceAccount
	return nil
}

// setenv sets the process environment as the platform would, and restores
// it on Close.
func (e *Env) setenv(vars map[string]string) {
	for k, v := range vars {
		old, had := os.LookupEnv(k)
		_ = os.Setenv(k, v)
		e.run.Cleanup(func() {
			if had {
				_ = os.Setenv(k, old)
			} else {
				_ = os.Unsetenv(k)
			}
		})
	}
}

// ClientProperties writes a Java client.properties file in the form of the
// Confluent Cloud managed-identity guide (IMDS URL with resource and
// client_id, the extensions) for an AzureManagedIdentity Env, and returns
// its path; Close removes it. The one difference from the guide: the local
// brokers speak plain TCP, so SASL_PLAINTEXT.
func (e *Env) ClientProperties() (string, error) {
	dir, err := e.tempDir("offline-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "client.properties")
	text := fmt.Sprintf(`# Written by examples/internal/offline.
bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s&client_id=%s
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.mechanism=OAUTHBEARER
sasl.jaas.config= \
org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
clientId='ignored' \
clientSecret='ignored' \
extension_logicalCluster='%s' \
extension_identityPoolId='%s';
client.id=client-properties-example
acks=all
`, e.Bootstrap, e.Audience, e.ClientID, LogicalCluster, IdentityPool)
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// TokensIssued is how many tokens the identity provider issued (not
// counting the other requests it served, such as the brokers' JWKS
// fetches or ADC's read of the project ID).
func (e *Env) TokensIssued() int {
	if e.idp == nil {
		return 0
	}
	return len(e.idp.Issued())
}

// Authentications is how many SASL authentications the brokers saw, and
// how many of them they accepted.
func (e *Env) Authentications() (accepted, total int) {
	if e.broker == nil {
		return 0, 0
	}
	accepted, total, _ = countAuthentications(e.broker.Authentications())
	return accepted, total
}

// countAuthentications counts the authentications a broker saw and
// accepted, and names the principal (and extensions) of the last one, if
// any, from one snapshot of the broker's list.
func countAuthentications(auths []oauthbearertest.Authentication) (accepted, total int, last string) {
	for _, a := range auths {
		if a.Accepted {
			accepted++
		}
	}
	if len(auths) > 0 {
		a := auths[len(auths)-1]
		last = ", as principal " + a.Principal
		if len(a.Extensions) > 0 {
			last += " with extensions " + Pairs(a.Extensions)
		}
	}
	return accepted, len(auths), last
}

// brokerLine is Summary's sentence about the brokers.
func brokerLine(b *oauthbearertest.Broker) string {
	accepted, total, last := countAuthentications(b.Authentications())
	return fmt.Sprintf("the brokers accepted %d of %s on %s%s\n", accepted, Plural(total, "authentication"),
		Plural(b.Connections(), "connection"), last)
}

// Summary says in plain sentences what the emulators saw (never a token).
// Call it before Close.
func (e *Env) Summary() string {
	var b strings.Builder
	if e.idp != nil {
		fmt.Fprintf(&b, "%s issued %s\n", e.idpName, Plural(e.TokensIssued(), "token"))
	}
	if e.broker != nil {
		b.WriteString(brokerLine(e.broker))
	}
	if e.reg != nil {
		reqs := e.reg.Requests()
		refused := countStatus(reqs, http.StatusUnauthorized)
		fmt.Fprintf(&b, "the Schema Registry authorized %d of %s\n", len(reqs)-refused, Plural(len(reqs), "request"))
	}
	if e.api != nil {
		ok, refused := e.api.counts()
		fmt.Fprintf(&b, "the Confluent Cloud API stand-in accepted %d of %s\n", ok, Plural(ok+refused, "request"))
	}
	return b.String()
}

// Close stops everything Start started, in reverse order, and restores
// the environment. It is safe to call more than once.
func (e *Env) Close() { e.run.close() }

// tempDir makes a directory that Close removes.
func (e *Env) tempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	e.run.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir, nil
}

// Plural returns "1 token", "2 tokens".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Pairs formats extensions as "k1=v1, k2=v2", sorted by key.
func Pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

func countStatus(reqs []idptest.Request, status int) int {
	n := 0
	for _, r := range reqs {
		if r.Status == status {
			n++
		}
	}
	return n
}

// guid returns a random version-4 UUID.
func guid() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("offline: no randomness"))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Report prints [Env.Summary] to out, then closes e: defer it in an
// example's run so that the summary follows the example's own output.
func (e *Env) Report(out io.Writer) {
	fmt.Fprint(out, e.Summary())
	e.Close()
}

// Extensions returns the Confluent Cloud extensions the offline brokers
// expect: [LogicalCluster] and [IdentityPool].
func (e *Env) Extensions() confluent.Extensions {
	return confluent.Extensions{LogicalCluster: LogicalCluster, IdentityPoolID: IdentityPool}
}

// Secrets are the credentials the emulators are given (the AWS secret
// access key, the OAuth client secret) and the prefix of the GCE
// metadata emulator's access tokens: an example's output must hold none.
var Secrets = []string{"offline-example-not-a-secret", "offline-client-secret-not-real", "ya29."}
