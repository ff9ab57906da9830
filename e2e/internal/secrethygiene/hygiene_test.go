package secrethygiene

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/IBM/sarama"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

const (
	awsKey       = "AKIDEXAMPLE"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	clientSecret = "cc-secret-0123456789-abcdefghij"
	propsSecret  = "props-secret-9876543210-zyxwvu"
)

var noRetry = policy.RetryOptions{MaxRetries: -1}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastCache logs to the collector and gives up quickly on failures.
func fastCache(c *collector) *oauthbearer.CacheOptions {
	return &oauthbearer.CacheOptions{Logger: c.log, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, FetchTimeout: 5 * time.Second}
}

// use fetches a token from src (collecting the token as a secret and the
// formatted token, error and source), then closes src.
func use(t *testing.T, c *collector, name string, src *oauthbearer.Cache) {
	t.Helper()
	tok, err := src.Token(tctx(t))
	c.secret(name+" token", tok.Value)
	c.value(tok)
	c.value(src)
	c.err(err)
	require.NoError(t, src.Close())
}

// useErr is use for a source that must fail; it returns the error.
func useErr(t *testing.T, c *collector, name string, src *oauthbearer.Cache) error {
	t.Helper()
	tok, err := src.Token(tctx(t))
	require.Error(t, err, name)
	c.secret(name+" token", tok.Value)
	c.err(err)
	c.value(src)
	require.NoError(t, src.Close())
	return err
}

func TestSecretHygiene(t *testing.T) {
	c := newCollector()
	iss := idptest.NewIssuer(t, nil)
	t.Run("azure managed identity", func(t *testing.T) { azureMI(t, c, iss) })
	t.Run("azure workload identity", func(t *testing.T) { azureWI(t, c, iss) })
	t.Run("aws web identity", func(t *testing.T) { awsWebIdentity(t, c) })
	t.Run("aws msk", func(t *testing.T) { awsMSK(t, c) })
	t.Run("confluent sts", func(t *testing.T) { confluentSTS(t, c, iss) })
	t.Run("client credentials", func(t *testing.T) { clientCredentials(t, c, iss) })
	t.Run("client.properties", func(t *testing.T) { clientProperties(t, c, iss) })
	t.Run("schema registry", func(t *testing.T) { schemaRegistry(t, c, iss) })
	t.Run("franzsasl", func(t *testing.T) { franz(t, c, iss) })
	t.Run("saramasasl", func(t *testing.T) { saramaAdapter(t, c, iss) })
	t.Run("kafkagosasl", func(t *testing.T) { kafkaGoAdapter(t, c, iss) })
	t.Run("gcp", func(t *testing.T) { gcpSources(t, c, iss) })
	c.check(t)
}

func azureMI(t *testing.T, c *collector, iss *idptest.Issuer) {
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: iss})
	v1 := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: iss, V1Tokens: true})
	n := 0
	mi := func(m *idptest.IMDS, mut func(*azure.ManagedIdentityOptions)) *oauthbearer.Cache {
		n++
		o := &azure.ManagedIdentityOptions{Audience: fmt.Sprintf("api://hygiene-%d-%d", time.Now().UnixNano(), n), Cache: fastCache(c),
			HTTPClient: m.Client(), Retry: noRetry}
		if mut != nil {
			mut(o)
		}
		src, err := azure.NewManagedIdentity(o)
		require.NoError(t, err)
		return src
	}
	use(t, c, "imds", mi(m, nil))
	use(t, c, "imds v1 (warning)", mi(v1, nil))
	useErr(t, c, "imds v1 required v2", mi(v1, func(o *azure.ManagedIdentityOptions) { o.RequireV2 = true }))
	useErr(t, c, "imds unknown identity", mi(m, func(o *azure.ManagedIdentityOptions) {
		o.ID = azidentity.ClientID("0000aaaa-0000-4000-8000-000000000000")
	}))
	m.FailNext(1, idptest.Fault{Malformed: true})
	useErr(t, c, "imds malformed", mi(m, nil))
	m.FailNext(1, idptest.Fault{Status: http.StatusInternalServerError})
	useErr(t, c, "imds 500", mi(m, nil))
	for _, r := range append(m.Requests(), v1.Requests()...) {
		if r.Token == "" {
			continue
		}
		c.secret("imds-issued token", r.Token)
		if rep, err := azure.Diagnose(r.Token); err == nil {
			c.value(rep) // the diagnostics report is meant for logs
		}
	}
}

func azureWI(t *testing.T, c *collector, iss *idptest.Issuer) {
	const tenant, client, sa = "9d2f0000-0000-4000-8000-0000000000a1", "9d2f0000-0000-4000-8000-0000000000c1", "system:serviceaccount:kafka:producer"
	e := idptest.NewEntra(t, &idptest.EntraOptions{Signer: iss, Apps: []idptest.EntraApp{{TenantID: tenant, ClientID: client,
		Federated: []idptest.FederatedCredential{{Issuer: iss.IssuerURL, Subject: sa}}}}})
	dir := t.TempDir()
	file := func(sub string, ttl time.Duration) string {
		tok := iss.Mint(sub, "api://AzureADTokenExchange", ttl, nil)
		c.secret("federated token", tok)
		p := filepath.Join(dir, fmt.Sprintf("token-%d", time.Now().UnixNano()))
		require.NoError(t, os.WriteFile(p, []byte(tok), 0o600))
		return p
	}
	wi := func(path string, mut func(*azure.WorkloadIdentityOptions)) *oauthbearer.Cache {
		o := &azure.WorkloadIdentityOptions{Audience: "api://kafka", ClientID: client, TenantID: tenant, TokenFilePath: path,
			AuthorityHost: e.URL, DisableInstanceDiscovery: true, Getenv: func(string) string { return "" }, Cache: fastCache(c),
			HTTPClient: e.Client(), Retry: noRetry}
		if mut != nil {
			mut(o)
		}
		src, err := azure.NewWorkloadIdentity(o)
		require.NoError(t, err)
		return src
	}
	use(t, c, "entra", wi(file(sa, time.Hour), nil))
	useErr(t, c, "entra wrong subject", wi(file("system:serviceaccount:other:sa", time.Hour), nil))
	useErr(t, c, "entra expired assertion", wi(file(sa, -time.Hour), nil))
	useErr(t, c, "entra unknown client", wi(file(sa, time.Hour), func(o *azure.WorkloadIdentityOptions) { o.ClientID = "00000000-0000-4000-8000-00000000dead" }))
	e.FailNext(1, idptest.Fault{Malformed: true, Path: strings.TrimPrefix(e.TokenURL(tenant), e.URL)})
	useErr(t, c, "entra malformed", wi(file(sa, time.Hour), nil))
	for _, r := range e.Requests() {
		c.secret("client assertion", r.Assertion)
		c.secret("entra-issued token", r.Token)
	}
}

func awsConfig(s *idptest.STS, creds sdkaws.CredentialsProvider) *sdkaws.Config {
	return &sdkaws.Config{Region: s.Region, Credentials: creds, BaseEndpoint: sdkaws.String(s.URL), HTTPClient: s.Client()}
}

func awsWebIdentity(t *testing.T, c *collector) {
	c.secret("aws secret access key", awsSecret)
	static := credentials.NewStaticCredentialsProvider(awsKey, awsSecret, "session-token-0123456789abcdef")
	c.secret("aws session token", "session-token-0123456789abcdef")
	s := idptest.NewSTS(t, &idptest.STSOptions{AccessKeyID: awsKey, SecretAccessKey: awsSecret, AllowedAudiences: []string{"kafka"}})
	wi := func(aud string, creds sdkaws.CredentialsProvider) *oauthbearer.Cache {
		src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{aud}, Config: awsConfig(s, creds), Cache: fastCache(c)})
		require.NoError(t, err)
		return src
	}
	use(t, c, "sts", wi("kafka", static))
	useErr(t, c, "sts denied audience", wi("not-kafka", static))
	useErr(t, c, "sts wrong secret", wi("kafka", credentials.NewStaticCredentialsProvider(awsKey, "wrong-secret-key-0123456789abcdefghij", "")))
	c.secret("wrong aws secret key", "wrong-secret-key-0123456789abcdefghij")
	s.FailNext(1, idptest.Fault{Malformed: true})
	useErr(t, c, "sts malformed", wi("kafka", static))
	s.SetFederationEnabled(false)
	useErr(t, c, "sts federation disabled", wi("kafka", static))
}

func awsMSK(t *testing.T, c *collector) {
	static := credentials.NewStaticCredentialsProvider(awsKey, awsSecret, "")
	src, err := awsid.NewMSK(context.Background(), &awsid.MSKOptions{Region: "us-east-1", Config: &sdkaws.Config{Region: "us-east-1", Credentials: static}, Cache: fastCache(c)})
	require.NoError(t, err)
	use(t, c, "msk", src)
	failing := sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
		return sdkaws.Credentials{}, fmt.Errorf("no credentials")
	})
	src, err = awsid.NewMSK(context.Background(), &awsid.MSKOptions{Region: "us-east-1", Config: &sdkaws.Config{Region: "us-east-1", Credentials: failing}, Cache: fastCache(c)})
	require.NoError(t, err)
	useErr(t, c, "msk without credentials", src)
}

func confluentSTS(t *testing.T, c *collector, iss *idptest.Issuer) {
	s := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{Signer: iss,
		Providers: []idptest.ConfluentIdentityProvider{{Issuer: iss, ExpectedAudience: "app-1", Pools: []string{"pool-7yzk"}}}})
	subject := func(aud string) oauthbearer.TokenSource {
		return oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
			tok := iss.Mint("workload-1", aud, time.Hour, nil)
			c.secret("sts subject token", tok)
			return oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}, nil
		})
	}
	sts := func(aud string) *oauthbearer.Cache {
		src, err := confluent.NewSTS(subject(aud), &confluent.STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: s.TokenURL, HTTPClient: s.Client(), Cache: fastCache(c)})
		require.NoError(t, err)
		return src
	}
	use(t, c, "confluent sts", sts("app-1"))
	useErr(t, c, "confluent sts wrong audience", sts("other"))
	s.FailNext(1, idptest.Fault{Malformed: true})
	useErr(t, c, "confluent sts malformed", sts("app-1"))
	s.FailNext(1, idptest.Fault{Oversize: 2 << 20})
	useErr(t, c, "confluent sts oversized", sts("app-1"))
}

func clientCredentials(t *testing.T, c *collector, iss *idptest.Issuer) {
	c.secret("client secret", clientSecret)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	c.secret("private key (PKCS#8, base64)", base64.StdEncoding.EncodeToString(der))
	c.secret("private key scalar (hex)", scalarHex(t, key))
	s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss,
		Clients: map[string]idptest.OAuthClient{"client-1": {Secret: clientSecret}}})
	cc := func(o oauthclient.ClientCredentialsOptions) *oauthbearer.Cache {
		o.TokenURL, o.HTTPClient, o.Cache = s.TokenURL, s.Client(), fastCache(c)
		c.value(o)
		src, err := oauthclient.NewClientCredentials(&o)
		require.NoError(t, err)
		return src
	}
	use(t, c, "client credentials", cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", ClientSecret: clientSecret}))
	useErr(t, c, "client credentials wrong secret", cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", ClientSecret: clientSecret + "-wrong"}))
	c.secret("wrong client secret", clientSecret+"-wrong")
	useErr(t, c, "client credentials unknown key", cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", Assertion: &oauthclient.AssertionOptions{PrivateKey: key}}))
	_, err = oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: "http://example.com/token", ClientID: "client-1", ClientSecret: clientSecret})
	require.Error(t, err, "plain http to a remote host is refused")
	c.err(err)
}

func clientProperties(t *testing.T, c *collector, iss *idptest.Issuer) {
	c.secret("client.properties secret", propsSecret)
	s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss,
		Clients: map[string]idptest.OAuthClient{"app-1": {Secret: "the-right-secret-that-is-not-used"}}})
	props := func(endpoint, extra string) string {
		return `bootstrap.servers=pkc-1.us-east-1.aws.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + endpoint + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
  clientId="app-1" clientSecret="` + propsSecret + `" ` + extra + ` extension_logicalCluster='lkc-abc123' extension_identityPoolId='pool-a1b2';
`
	}
	cfg, err := clientprops.Parse(strings.NewReader(props(s.TokenURL, "")))
	require.NoError(t, err)
	c.value(cfg)
	c.value(cfg.Source)
	src, err := cfg.NewSource(&clientprops.BuildOptions{HTTPClient: s.Client(), AllowedURLs: []string{s.TokenURL}})
	require.NoError(t, err)
	tok, err := src.Token(tctx(t))
	require.Error(t, err, "the secret in the file is not the client's")
	c.err(err)
	c.value(tok)
	c.value(src)
	c.value(cfg.Source.ClientSecret)
	require.NoError(t, src.Close())
	for _, bad := range []string{props(s.TokenURL, "foo='bar'"), props("ftp://idp.example.com/token?client_secret="+propsSecret, ""), strings.Replace(props(s.TokenURL, ""), `clientId="app-1"`, "", 1)} {
		cfg, err := clientprops.Parse(strings.NewReader(bad))
		if err == nil {
			c.value(cfg)
			_, err = cfg.NewSource(nil)
		}
		require.Error(t, err)
		c.err(err)
	}
}

func schemaRegistry(t *testing.T, c *collector, iss *idptest.Issuer) {
	sr := idptest.NewSchemaRegistry(t, &idptest.SchemaRegistryOptions{Issuer: iss, ExpectedAudience: "sr", LogicalCluster: "lsrc-abc123", IdentityPoolID: "pool-a1b2"})
	for _, aud := range []string{"sr", "wrong-audience"} {
		tok := iss.Mint("workload-1", aud, time.Hour, nil)
		c.secret("schema registry token", tok)
		cl, err := schemaregistry.NewHTTPClient(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}),
			&schemaregistry.TransportOptions{LogicalCluster: "lsrc-abc123", IdentityPoolID: "pool-a1b2", AllowInsecureHTTP: true, Base: sr.Client().Transport})
		require.NoError(t, err)
		c.value(cl.Transport)
		hp, err := schemaregistry.NewHeaderProvider(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}),
			&schemaregistry.HeaderProviderOptions{LogicalCluster: "lsrc-abc123", IdentityPoolID: "pool-a1b2"})
		require.NoError(t, err)
		c.value(hp)
		hdr, err := hp.GetAuthenticationHeader()
		c.err(err)
		_ = hdr // the header carries the token by design; it goes to the client, not to a log
		req, err := http.NewRequestWithContext(tctx(t), http.MethodGet, sr.URL+"/subjects", nil)
		require.NoError(t, err)
		resp, err := cl.Do(req)
		c.err(err)
		if resp != nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			c.say(string(body)) // what a caller would log from a failed call
		}
	}
	_, err := schemaregistry.NewHTTPClient(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "x", Expiry: time.Now().Add(time.Hour)}), &schemaregistry.TransportOptions{LogicalCluster: "bad id"})
	c.err(err)
}

func franz(t *testing.T, c *collector, iss *idptest.Issuer) {
	forger, stranger := kafkatest.Impostors(t, iss)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	for name, tok := range map[string]string{
		"good":         iss.Mint("workload-1", "kafka", time.Hour, nil),
		"bad audience": iss.Mint("workload-1", "not-kafka", time.Hour, nil),
		"forged":       forger.Sign(map[string]any{"iss": iss.IssuerURL, "sub": "w", "aud": "kafka", "exp": time.Now().Add(time.Hour).Unix()}),
		"unknown kid":  stranger.Sign(map[string]any{"iss": iss.IssuerURL, "sub": "w", "aud": "kafka", "exp": time.Now().Add(time.Hour).Unix()}),
	} {
		c.secret("franz "+name+" token", tok)
		src, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}), fastCache(c))
		require.NoError(t, err)
		ext, err := oauthbearer.WithExtensions(src, map[string]string{"logicalCluster": "lkc-abc123"})
		require.NoError(t, err)
		c.value(ext)
		mech := must(franzsasl.Mechanism(src, &franzsasl.Options{Logger: c.log}))
		c.value(mech)
		cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(mech),
			kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
		require.NoError(t, err)
		err = cl.Ping(tctx(t))
		cl.Close()
		if name == "good" {
			require.NoError(t, err)
		} else {
			require.Error(t, err, name)
		}
		c.err(err)
		require.NoError(t, src.Close())
	}
}

func saramaAdapter(t *testing.T, c *collector, iss *idptest.Issuer) {
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	for _, aud := range []string{"kafka", "not-kafka"} {
		tok := iss.Mint("workload-1", aud, time.Hour, nil)
		c.secret("sarama token", tok)
		p := must(saramasasl.NewTokenProvider(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}), nil))
		// sarama.AccessToken is sarama's type and holds the token in
		// plain text by design; it is handed to sarama, not formatted.
		_, err := p.Token()
		require.NoError(t, err)
		c.value(p)
		cfg := sarama.NewConfig()
		cfg.Net.SASL.Enable, cfg.Net.SASL.Mechanism, cfg.Net.SASL.TokenProvider = true, sarama.SASLTypeOAuth, p
		cfg.Metadata.Retry.Max = 0
		cl, err := sarama.NewClient(broker.Addrs(), cfg)
		if err == nil {
			require.NoError(t, cl.Close())
		}
		c.err(err)
		c.err(saramasasl.Explain(err))
	}
	failing := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{}, fmt.Errorf("idp down")
	})
	_, err := must(saramasasl.NewTokenProvider(failing, nil)).Token()
	c.err(err)
}

func kafkaGoAdapter(t *testing.T, c *collector, iss *idptest.Issuer) {
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
	for _, aud := range []string{"kafka", "not-kafka"} {
		tok := iss.Mint("workload-1", aud, time.Hour, nil)
		c.secret("kafka-go token for "+aud, tok)
		src, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}), fastCache(c))
		require.NoError(t, err)
		mech := must(kafkagosasl.Mechanism(src, &kafkagosasl.Options{Logger: c.log}))
		c.value(mech)
		d := &kafkago.Dialer{SASLMechanism: mech, Timeout: 5 * time.Second}
		conn, err := d.DialContext(tctx(t), "tcp", broker.Addrs()[0])
		if aud == "kafka" {
			require.NoError(t, err)
			require.NoError(t, conn.Close())
		} else {
			require.Error(t, err)
		}
		c.err(err)
		require.NoError(t, src.Close())
	}
}

// must returns v, panicking on err: for constructors that fail only on a
// nil token source, which these tests never pass.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// scalarHex is the private key's scalar in hex (PrivateKey.Bytes, not the
// deprecated D): a form of the key that must never appear anywhere.
func scalarHex(t testing.TB, key *ecdsa.PrivateKey) string {
	b, err := key.Bytes()
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
