package battery

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/saidcheck"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// source is what every constructor returns: a token source, most with a
// Close.
type source = oauthbearer.TokenSource

// env is what an entry's builders get: the hostile host (nil for cells
// that need none), the collector of the cell and cache options logging
// into it.
type env struct {
	h  *host
	c  *saidcheck.Collector
	co *oauthbearer.CacheOptions
	// ctx bounds constructors that take one.
	ctx context.Context
}

// setting is one option or environment variable that names an endpoint
// or a file, as a user writes it.
type setting struct {
	name string
	// osEnv: the builder sets a process environment variable (t.Setenv),
	// so the cell runs alone (a file cell: in its own child process).
	osEnv bool
	build func(t *testing.T, e *env, value string) (source, error)
}

// Families of cases; an entry runs a family or says why it does not apply.
const (
	famNet       = "echo, redirects and bodies"
	famClose     = "Close during a blocked fetch"
	famEndpoints = "plain-http endpoints"
	famFiles     = "hostile files"
)

type entry struct {
	// name is the constructor as TestTableCoversAPI names it:
	// "pkg.Func" or "pkg.(*T).Method", pkg the path in the repository.
	name string
	// net builds the source with every credential request going to e.h.
	net func(t *testing.T, e *env) (source, error)
	// blocked builds a source whose fetch blocks until its context ends
	// (arrived is closed when it started), for a source that reaches no
	// endpoint of its own; nil: net against a host that never answers.
	blocked func(t *testing.T, e *env) (src source, arrived <-chan struct{}, err error)
	// endpoints are the settings that can name an endpoint; the value is
	// a plain-http URL on offMachine.
	endpoints []setting
	// files are the settings that name a file; the value is a path.
	files []setting
	// value builds a source holding a secret, for a constructor that does
	// no I/O: only what it prints is checked.
	value func(t *testing.T, e *env) source
	// agent are cells for what the families cannot reach: a local agent
	// in a protocol the hostile host does not speak (gRPC), a proxy. Each
	// must fail and say nothing secret.
	agent []agentCase
	// none says, per family, why it does not apply to this constructor.
	none map[string]string
}

// agentCase is one hostile answer of a local agent (or of a proxy).
type agentCase struct {
	name  string
	build func(t *testing.T, e *env) (source, error)
	// reaches: the cell's source must reach the hostile host.
	reaches bool
}

const (
	awsKey       = "AKIDBATTERY00000000"
	awsSecret    = "battery/aws+secret=key-0123456789abcdefghij"
	awsSession   = "battery-session-token-0123456789abcdefghij"
	clientSecret = "battery-client-secret~0123456789.abcdefghij"
	tenant       = "9d2f0000-0000-4000-8000-0000000000a1"
	clientID     = "9d2f0000-0000-4000-8000-0000000000c1"
	// subjectJWT is a federated or subject token as a file or a source
	// holds it.
	subjectJWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YmF0dGVyeSIsImF1ZCI6ImJhdHRlcnkiLCJleHAiOjQxMDI0NDQ4MDB9.YmF0dGVyeS1zdWJqZWN0LXNpZ25hdHVyZS0wMTIzNDU2Nzg5"
)

var noRetry = azpolicy.RetryOptions{MaxRetries: -1}

// uniq keeps azidentity's process-global managed-identity cache apart
// between cells.
func uniq(t *testing.T) string {
	return "api://battery-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + time.Now().Format("150405.000000000")
}

func staticAWS(e *env) *sdkaws.Config {
	e.c.Secret("aws secret access key", awsSecret)
	e.c.Secret("aws session token", awsSession)
	return &sdkaws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(awsKey, awsSecret, awsSession)}
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func subjectFile(t *testing.T, e *env) string {
	e.c.Secret("subject token", subjectJWT)
	return writeFile(t, "token", subjectJWT)
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	rsaPEM   string
	ecKey    *ecdsa.PrivateKey
	ecPEM    string
)

func keys(t *testing.T, e *env) {
	keysOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
		rsaPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		der, _ = x509.MarshalPKCS8PrivateKey(ecKey)
		ecPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	for _, l := range strings.Split(rsaPEM+ecPEM, "\n") {
		if !strings.HasPrefix(l, "-----") {
			e.c.Secret("private key (PEM line)", l)
		}
	}
	e.c.Secret("private key scalar", rsaKey.D.Text(16))
	if b, err := ecKey.Bytes(); err == nil {
		e.c.Secret("private key scalar", hex.EncodeToString(b))
	}
}

// gcpServiceAccount is a service-account key file whose token_uri is uri.
func gcpServiceAccount(t *testing.T, e *env, uri string) []byte {
	keys(t, e)
	b, err := json.Marshal(map[string]string{"type": "service_account", "project_id": "battery", "private_key_id": "k1",
		"private_key": rsaPEM, "client_email": "battery@battery.iam.gserviceaccount.com", "client_id": "1", "token_uri": uri})
	require.NoError(t, err)
	return b
}

// gcpExternal is an external_account configuration (workload identity
// federation) with the given URLs and credential source.
func gcpExternal(t *testing.T, tokenURL, impersonation string, source map[string]any) []byte {
	m := map[string]any{"type": "external_account",
		"audience":           "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/battery/providers/battery",
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": tokenURL, "credential_source": source}
	if impersonation != "" {
		m["service_account_impersonation_url"] = impersonation
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// gcpEntry is the table entry of a gcp constructor; build makes it from
// a credentials file's content (nil: Application Default Credentials,
// "metadata": the metadata server). external: it takes external_account
// configurations.
func gcpEntry(name string, external bool, build func(e *env, creds []byte) (source, error)) entry {
	viaJSON := func(mk func(t *testing.T, e *env, u string) []byte) func(t *testing.T, e *env, v string) (source, error) {
		return func(t *testing.T, e *env, v string) (source, error) { return build(e, mk(t, e, v)) }
	}
	ext := func(field string) func(t *testing.T, e *env, u string) []byte {
		return func(t *testing.T, e *env, u string) []byte {
			tokenURL, imp, src := "https://sts.googleapis.com/v1/token", "", map[string]any{"file": subjectFile(t, e)}
			switch field {
			case "token_url":
				tokenURL = u
			case "service_account_impersonation_url":
				imp = u + "/v1/projects/-/serviceAccounts/battery@battery.iam.gserviceaccount.com:generateAccessToken"
			case "credential_source.url":
				src = map[string]any{"url": u + "/token"}
			}
			return gcpExternal(t, tokenURL, imp, src)
		}
	}
	adc := func(t *testing.T, e *env, v string) (source, error) {
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", v)
		return build(e, nil)
	}
	en := entry{name: name,
		net: func(t *testing.T, e *env) (source, error) {
			return build(e, gcpServiceAccount(t, e, e.h.URL()+"/token"))
		},
		endpoints: []setting{
			{name: "service_account token_uri", build: viaJSON(func(t *testing.T, e *env, u string) []byte { return gcpServiceAccount(t, e, u+"/token") })},
			{name: "GCE_METADATA_HOST", osEnv: true, build: func(t *testing.T, e *env, u string) (source, error) {
				t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(u, "http://"))
				return build(e, []byte("metadata"))
			}},
			{name: "GOOGLE_APPLICATION_CREDENTIALS (a key whose token_uri is plain http)", osEnv: true, build: func(t *testing.T, e *env, u string) (source, error) {
				return adc(t, e, writeFile(t, "adc.json", string(gcpServiceAccount(t, e, u+"/token"))))
			}},
		},
		files: []setting{{name: "GOOGLE_APPLICATION_CREDENTIALS", osEnv: true, build: adc}},
	}
	if external {
		en.endpoints = append(en.endpoints,
			setting{name: "external_account token_url", build: viaJSON(ext("token_url"))},
			setting{name: "external_account service_account_impersonation_url", build: viaJSON(ext("service_account_impersonation_url"))},
			setting{name: "external_account credential_source.url", build: viaJSON(ext("credential_source.url"))})
		en.files = append(en.files, setting{name: "external_account credential_source.file", build: func(t *testing.T, e *env, p string) (source, error) {
			return build(e, gcpExternal(t, e.h.URL()+"/v1/token", "", map[string]any{"file": p}))
		}})
	}
	return en
}

// gcpBuild maps the creds argument of gcpEntry's build to the options:
// "metadata" is the metadata server.
func gcpOpts(creds []byte) (json []byte, metadata bool) {
	if string(creds) == "metadata" {
		return nil, true
	}
	return creds, false
}

func clientCredentialsProps(endpoint string) string {
	return `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + endpoint + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="app-1" clientSecret="` + clientSecret + `" extension_logicalCluster='lkc-abc123' extension_identityPoolId='pool-a1b2';
`
}

func jwtBearerProps(endpoint, extra string) string {
	return `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + endpoint + `
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.aud=orders
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
` + extra
}

func workloadIdentityProps(endpoint string) string {
	return `security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=` + endpoint + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required useWorkloadIdentity='true' scope='5e20030f-3a3c-4aea-83bc-e6aa925a148f/.default';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`
}

// fromProps parses text and builds it with build, the cache options of
// the cell in place of the file's.
func fromProps(e *env, text string, allowed string, hcEnv map[string]string,
	build func(*clientprops.Config, *clientprops.BuildOptions) (*oauthbearer.ExtensionSource, error)) (source, error) {
	cfg, err := clientprops.Parse(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	e.c.Value(cfg)
	co := *e.co
	if cfg.Cache != nil {
		co.Name = cfg.Cache.Name
	}
	cfg.Cache = &co
	o := &clientprops.BuildOptions{AllowedURLs: []string{allowed}, Getenv: getenv(hcEnv)}
	// The assertion files the text names are allowed (Kafka's
	// allowed.files), so that the cells reach them.
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(k, "sasl.oauthbearer.assertion.") && strings.HasSuffix(k, ".file") {
			o.AllowedFiles = append(o.AllowedFiles, strings.TrimSpace(v))
		}
	}
	if e.h != nil {
		o.HTTPClient = e.h.Client()
	}
	return build(cfg, o)
}

// blockingSource blocks every fetch until its context ends.
func blockingSource() (oauthbearer.TokenSource, <-chan struct{}) {
	arrived := make(chan struct{})
	var once sync.Once
	return oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		once.Do(func() { close(arrived) })
		<-ctx.Done()
		return oauthbearer.Token{}, ctx.Err()
	}), arrived
}

// blockingCredential is an azcore.TokenCredential that blocks.
type blockingCredential struct {
	src oauthbearer.TokenSource
}

func (b blockingCredential) GetToken(ctx context.Context, _ azpolicy.TokenRequestOptions) (azcore.AccessToken, error) {
	_, err := b.src.Token(ctx)
	return azcore.AccessToken{}, err
}

// blockingAWS is an AWS credentials provider that blocks.
type blockingAWS struct {
	src oauthbearer.TokenSource
}

func (b blockingAWS) Retrieve(ctx context.Context) (sdkaws.Credentials, error) {
	_, err := b.src.Token(ctx)
	return sdkaws.Credentials{}, err
}

const wrapperNet = "does no I/O of its own: it wraps the caller's source, which the other entries cover"

// table lists every exported token-source constructor of every module.
var table = []entry{
	{name: "aws.NewWebIdentity",
		net: func(t *testing.T, e *env) (source, error) {
			cfg := staticAWS(e)
			cfg.HTTPClient = e.h.Client()
			return awsid.NewWebIdentity(e.ctx, &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: e.h.URL(), Config: cfg, Cache: e.co})
		},
		endpoints: []setting{
			{name: "WebIdentityOptions.Endpoint", build: func(t *testing.T, e *env, u string) (source, error) {
				return awsid.NewWebIdentity(e.ctx, &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: u, Config: staticAWS(e), HTTPClient: e.h.Client(), Cache: e.co})
			}},
			{name: "WebIdentityOptions.Config.BaseEndpoint", build: func(t *testing.T, e *env, u string) (source, error) {
				cfg := staticAWS(e)
				cfg.BaseEndpoint = sdkaws.String(u)
				return awsid.NewWebIdentity(e.ctx, &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Config: cfg, HTTPClient: e.h.Client(), Cache: e.co})
			}},
			awsEnvEndpoint("AWS_ENDPOINT_URL_STS"),
			awsEnvEndpoint("AWS_ENDPOINT_URL"),
		},
		files: awsFiles(func(e *env) (source, error) {
			return awsid.NewWebIdentity(e.ctx, &awsid.WebIdentityOptions{Audience: []string{"kafka"}, HTTPClient: e.h.Client(), Cache: e.co})
		}),
	},
	{name: "aws.NewMSK",
		blocked: func(t *testing.T, e *env) (source, <-chan struct{}, error) {
			src, arrived := blockingSource()
			src2, err := awsid.NewMSK(e.ctx, &awsid.MSKOptions{Config: &sdkaws.Config{Region: "us-east-1", Credentials: blockingAWS{src}}, Cache: e.co})
			return src2, arrived, err
		},
		files: awsFiles(func(e *env) (source, error) {
			return awsid.NewMSK(e.ctx, &awsid.MSKOptions{Cache: e.co})
		}),
		none: map[string]string{
			famNet:       "signs a SigV4 URL locally from the AWS credentials; it calls no identity provider (the credential providers' I/O is the AWS SDK's)",
			famEndpoints: "names no endpoint: the signed URL is for the broker, and is never sent by this library",
		}},
	{name: "azure.NewManagedIdentity",
		net: func(t *testing.T, e *env) (source, error) {
			return azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: uniq(t), HTTPClient: e.h.Client(),
				Retry: noRetry, Cache: e.co})
		},
		endpoints: []setting{
			azureMIEnv("IDENTITY_ENDPOINT", map[string]string{"IDENTITY_HEADER": "battery-identity-header-0123456789"}),
			azureMIEnv("MSI_ENDPOINT", nil),
			azureMIEnv("IDENTITY_ENDPOINT (Azure Arc, with IMDS_ENDPOINT)", map[string]string{"IMDS_ENDPOINT": "http://" + offMachine}),
			azureMIEnv("IDENTITY_ENDPOINT (Service Fabric)", map[string]string{"IDENTITY_HEADER": "battery-identity-header-0123456789",
				"IDENTITY_SERVER_THUMBPRINT": "0123456789abcdef0123456789abcdef01234567"}),
		},
		none: map[string]string{famFiles: "reads no file (Azure Arc's key file is read by azidentity only from its fixed directory)"}},
	{name: "azure.NewWorkloadIdentity",
		net: func(t *testing.T, e *env) (source, error) {
			return azureWI(t, e, e.h.URL(), subjectFile(t, e), nil)
		},
		endpoints: []setting{
			{name: "WorkloadIdentityOptions.AuthorityHost", build: func(t *testing.T, e *env, u string) (source, error) {
				return azureWI(t, e, u, subjectFile(t, e), nil)
			}},
			{name: "AZURE_AUTHORITY_HOST", build: func(t *testing.T, e *env, u string) (source, error) {
				return azureWI(t, e, "", subjectFile(t, e), map[string]string{"AZURE_AUTHORITY_HOST": u})
			}},
		},
		files: []setting{
			{name: "WorkloadIdentityOptions.TokenFilePath", build: func(t *testing.T, e *env, p string) (source, error) {
				return azureWI(t, e, e.h.URL(), p, nil)
			}},
			{name: "AZURE_FEDERATED_TOKEN_FILE", build: func(t *testing.T, e *env, p string) (source, error) {
				return azureWI(t, e, e.h.URL(), "", map[string]string{"AZURE_FEDERATED_TOKEN_FILE": p})
			}},
		}},
	{name: "azure.NewDefaultChain",
		net: func(t *testing.T, e *env) (source, error) {
			e.c.Secret("azure client secret", clientSecret)
			return azureChain(t, e, e.h.URL(), map[string]string{"AZURE_CLIENT_SECRET": clientSecret})
		},
		endpoints: []setting{
			{name: "DefaultChainOptions.AuthorityHost", build: func(t *testing.T, e *env, u string) (source, error) {
				return azureChain(t, e, u, map[string]string{"AZURE_CLIENT_SECRET": clientSecret})
			}},
			{name: "AZURE_AUTHORITY_HOST", build: func(t *testing.T, e *env, u string) (source, error) {
				return azureChain(t, e, "", map[string]string{"AZURE_CLIENT_SECRET": clientSecret, "AZURE_AUTHORITY_HOST": u})
			}},
			{name: "IDENTITY_ENDPOINT", osEnv: true, build: func(t *testing.T, e *env, u string) (source, error) {
				t.Setenv("IDENTITY_ENDPOINT", u+"/msi/token")
				t.Setenv("IDENTITY_HEADER", "battery-identity-header-0123456789")
				return azureChain(t, e, "", map[string]string{"IDENTITY_ENDPOINT": u + "/msi/token", "IDENTITY_HEADER": "battery-identity-header-0123456789"})
			}},
		},
		files: []setting{
			{name: "AZURE_FEDERATED_TOKEN_FILE", build: func(t *testing.T, e *env, p string) (source, error) {
				return azureChain(t, e, e.h.URL(), map[string]string{"AZURE_FEDERATED_TOKEN_FILE": p})
			}},
			{name: "AZURE_CLIENT_CERTIFICATE_PATH", build: func(t *testing.T, e *env, p string) (source, error) {
				return azureChain(t, e, e.h.URL(), map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": p})
			}},
		}},
	{name: "azure.NewFromCredential",
		blocked: func(t *testing.T, e *env) (source, <-chan struct{}, error) {
			src, arrived := blockingSource()
			c, err := azure.NewFromCredential(blockingCredential{src}, "api://kafka", &azure.CredentialOptions{Cache: e.co})
			return c, arrived, err
		},
		none: map[string]string{
			famNet:       "the caller's azcore.TokenCredential does the I/O, on the caller's transport: the gate cannot see what it sends (README, Credentials stay at their origin)",
			famEndpoints: "names no endpoint: the caller's credential does",
			famFiles:     "names no file: the caller's credential does",
		}},
	{name: "azure.FromClientProperties",
		net: func(t *testing.T, e *env) (source, error) {
			u := e.h.URL() + "/" + tenant + "/oauth2/v2.0/token"
			return fromProps(e, workloadIdentityProps(u), u, map[string]string{"AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": subjectFile(t, e)}, azure.FromClientProperties)
		},
		endpoints: []setting{
			{name: "sasl.oauthbearer.token.endpoint.url (workload identity)", build: func(t *testing.T, e *env, u string) (source, error) {
				u += "/" + tenant + "/oauth2/v2.0/token"
				return fromProps(e, workloadIdentityProps(u), u, map[string]string{"AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": subjectFile(t, e)}, azure.FromClientProperties)
			}},
			{name: "sasl.oauthbearer.token.endpoint.url (managed identity)", build: func(t *testing.T, e *env, u string) (source, error) {
				u += "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://kafka"
				text := strings.Replace(workloadIdentityProps(u), " useWorkloadIdentity='true' scope='5e20030f-3a3c-4aea-83bc-e6aa925a148f/.default'", "", 1)
				return fromProps(e, text, u, nil, azure.FromClientProperties)
			}},
		},
		files: []setting{
			{name: "AZURE_FEDERATED_TOKEN_FILE", build: func(t *testing.T, e *env, p string) (source, error) {
				u := e.h.URL() + "/" + tenant + "/oauth2/v2.0/token"
				return fromProps(e, workloadIdentityProps(u), u, map[string]string{"AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": p}, azure.FromClientProperties)
			}},
		}},
	{name: "clientprops.(*Config).NewSource",
		net: func(t *testing.T, e *env) (source, error) {
			e.c.Secret("client.properties clientSecret", clientSecret)
			u := e.h.URL() + "/token"
			return fromProps(e, clientCredentialsProps(u), u, nil, (*clientprops.Config).NewSource)
		},
		endpoints: []setting{
			{name: "sasl.oauthbearer.token.endpoint.url (client credentials)", build: func(t *testing.T, e *env, u string) (source, error) {
				u += "/token"
				return fromProps(e, clientCredentialsProps(u), u, nil, (*clientprops.Config).NewSource)
			}},
			{name: "sasl.oauthbearer.token.endpoint.url (jwt-bearer)", build: func(t *testing.T, e *env, u string) (source, error) {
				keys(t, e)
				u += "/token"
				return fromProps(e, jwtBearerProps(u, "sasl.oauthbearer.assertion.private.key.file="+writeFile(t, "key.pem", rsaPEM)+"\n"), u, nil, (*clientprops.Config).NewSource)
			}},
		},
		files: append([]setting{
			{name: "sasl.oauthbearer.token.endpoint.url=file:", build: func(t *testing.T, e *env, p string) (source, error) {
				return fromProps(e, strings.Replace(clientCredentialsProps("file:"+p), `clientId="app-1" clientSecret="`+clientSecret+`" `, "", 1)+
					"sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.FileJwtRetriever\n", "file:"+p, nil, (*clientprops.Config).NewSource)
			}},
			{name: "sasl.oauthbearer.assertion.file", build: func(t *testing.T, e *env, p string) (source, error) {
				u := e.h.URL() + "/token"
				return fromProps(e, jwtBearerProps(u, "sasl.oauthbearer.assertion.file="+p+"\n"), u, nil, (*clientprops.Config).NewSource)
			}},
			{name: "sasl.oauthbearer.assertion.private.key.file", build: func(t *testing.T, e *env, p string) (source, error) {
				u := e.h.URL() + "/token"
				return fromProps(e, jwtBearerProps(u, "sasl.oauthbearer.assertion.private.key.file="+p+"\n"), u, nil, (*clientprops.Config).NewSource)
			}},
			{name: "sasl.oauthbearer.assertion.template.file", build: func(t *testing.T, e *env, p string) (source, error) {
				keys(t, e)
				u := e.h.URL() + "/token"
				return fromProps(e, jwtBearerProps(u, "sasl.oauthbearer.assertion.private.key.file="+writeFile(t, "key.pem", rsaPEM)+
					"\nsasl.oauthbearer.assertion.template.file="+p+"\n"), u, nil, (*clientprops.Config).NewSource)
			}},
		}, propsFiles()...)},
	{name: "confluent.NewSTS",
		net: func(t *testing.T, e *env) (source, error) {
			return confluentSTS(e, e.h.URL()+"/sts/v1/oauth2/token")
		},
		endpoints: []setting{{name: "STSOptions.TokenURL", build: func(t *testing.T, e *env, u string) (source, error) {
			return confluentSTS(e, u+"/sts/v1/oauth2/token")
		}}},
		none: map[string]string{famFiles: "names no file: the subject token comes from the caller's TokenSource"}},
	{name: "confluent.WithExtensions",
		blocked: func(t *testing.T, e *env) (source, <-chan struct{}, error) {
			src, arrived := blockingSource()
			c, err := oauthbearer.NewCache(src, e.co)
			if err != nil {
				return nil, nil, err
			}
			es, err := confluent.WithExtensions(c, confluent.Extensions{LogicalCluster: "lkc-abc123", IdentityPoolID: "pool-a1b2"})
			return es, arrived, err
		},
		none: map[string]string{famNet: wrapperNet, famEndpoints: wrapperNet, famFiles: wrapperNet}},
	gcpEntry("gcp.NewIDToken", false, func(e *env, creds []byte) (source, error) {
		js, md := gcpOpts(creds)
		return gcp.NewIDToken(e.ctx, &gcp.IDTokenOptions{Audience: "kafka", CredentialsJSON: js, MetadataServer: md, HTTPClient: e.h.Client(), Cache: e.co})
	}),
	gcpEntry("gcp.NewManagedKafka", true, func(e *env, creds []byte) (source, error) {
		js, md := gcpOpts(creds)
		return gcp.NewManagedKafka(e.ctx, &gcp.ManagedKafkaOptions{CredentialsJSON: js, MetadataServer: md, HTTPClient: e.h.Client(),
			Principal: "battery@battery.iam.gserviceaccount.com", Cache: e.co})
	}),
	{name: "oauthclient.NewClientCredentials",
		net: func(t *testing.T, e *env) (source, error) {
			e.c.Secret("client secret", clientSecret)
			return oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: e.h.URL() + "/token", ClientID: "app-1",
				ClientSecret: clientSecret, HTTPClient: e.h.Client(), Cache: e.co})
		},
		endpoints: []setting{{name: "ClientCredentialsOptions.TokenURL", build: func(t *testing.T, e *env, u string) (source, error) {
			return oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: u + "/token", ClientID: "app-1",
				ClientSecret: clientSecret, HTTPClient: e.h.Client(), Cache: e.co})
		}}},
		files: ccFiles(),
		agent: []agentCase{ccProxyEcho}},
	{name: "oauthclient.NewJWTBearer",
		net: func(t *testing.T, e *env) (source, error) {
			keys(t, e)
			return jwtBearer(e, e.h.URL()+"/token", oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: ecKey}})
		},
		endpoints: []setting{{name: "JWTBearerOptions.TokenURL", build: func(t *testing.T, e *env, u string) (source, error) {
			keys(t, e)
			return jwtBearer(e, u+"/token", oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: ecKey}})
		}}},
		files: []setting{
			{name: "JWTBearerOptions.AssertionFile", build: func(t *testing.T, e *env, p string) (source, error) {
				return jwtBearer(e, e.h.URL()+"/token", oauthclient.JWTBearerOptions{AssertionFile: p})
			}},
			{name: "JWTBearerOptions.Assertion.PrivateKeyFile", build: func(t *testing.T, e *env, p string) (source, error) {
				return jwtBearer(e, e.h.URL()+"/token", oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: p}})
			}},
			{name: "JWTBearerOptions.Assertion.TemplateFile", build: func(t *testing.T, e *env, p string) (source, error) {
				keys(t, e)
				return jwtBearer(e, e.h.URL()+"/token", oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: ecKey, TemplateFile: p}})
			}},
		}},
	{name: "spiffe.New",
		blocked: spiffeBlocked,
		files: []setting{
			{name: "Options.Address", build: func(t *testing.T, e *env, p string) (source, error) { return spiffeNew(e, "unix://"+p) }},
			{name: "SPIFFE_ENDPOINT_SOCKET", osEnv: true, build: func(t *testing.T, e *env, p string) (source, error) {
				t.Setenv(spiffe.SocketEnv, "unix://"+p)
				return spiffeNew(e, "")
			}},
		},
		agent: func() (cs []agentCase) {
			for _, c := range spiffeEchoCodes {
				cs = append(cs, spiffeEcho(c))
			}
			return cs
		}(),
		none: map[string]string{
			famNet: "speaks gRPC to a local Workload API socket, not HTTP: no redirect to follow, no body to bound, and nothing secret is sent " +
				"(the request holds the audience and SPIFFE ID); the agent cells check that an agent's error quoting an SVID is scrubbed",
			famEndpoints: "names a local socket, never an HTTP endpoint; the socket settings run the hostile-file cells " +
				"(a path nobody listens on, FIFOs, devices, regular files)",
		}},
	{name: "tokenfile.New",
		files: []setting{{name: "Options.Path", build: func(t *testing.T, e *env, p string) (source, error) {
			return tokenfile.New(&tokenfile.Options{Path: p, Cache: e.co})
		}}},
		none: map[string]string{
			famNet:       "reads a local file: no endpoint",
			famEndpoints: "reads a local file: no endpoint",
			famClose:     "no fetch can block: the read is bounded and refuses FIFOs and devices (the hostile-files cells, which include a FIFO, prove it)",
		}},
	{name: "oauthbearer.NewCache",
		blocked: func(t *testing.T, e *env) (source, <-chan struct{}, error) {
			src, arrived := blockingSource()
			c, err := oauthbearer.NewCache(src, e.co)
			return c, arrived, err
		},
		none: map[string]string{famNet: wrapperNet, famEndpoints: wrapperNet, famFiles: wrapperNet}},
	{name: "oauthbearer.WithExtensions",
		blocked: func(t *testing.T, e *env) (source, <-chan struct{}, error) {
			src, arrived := blockingSource()
			c, err := oauthbearer.NewCache(src, e.co)
			if err != nil {
				return nil, nil, err
			}
			es, err := oauthbearer.WithExtensions(c, map[string]string{"logicalCluster": "lkc-abc123"})
			return es, arrived, err
		},
		none: map[string]string{famNet: wrapperNet, famEndpoints: wrapperNet, famFiles: wrapperNet}},
	{name: "oauthbearer.StaticTokenSource",
		value: func(t *testing.T, e *env) source {
			e.c.Secret("static token", subjectJWT)
			return oauthbearer.StaticTokenSource(oauthbearer.Token{Value: subjectJWT, Expiry: time.Now().Add(time.Hour)})
		},
		none: map[string]string{
			famNet: "does no I/O: it hands out the token it was given", famEndpoints: "does no I/O", famFiles: "does no I/O",
			famClose: "has no fetch to block and no Close",
		}},
}

func awsEnvEndpoint(name string) setting {
	return setting{name: name, osEnv: true, build: func(t *testing.T, e *env, u string) (source, error) {
		t.Setenv(name, u)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		t.Setenv("AWS_SESSION_TOKEN", awsSession)
		t.Setenv("AWS_REGION", "us-east-1")
		staticAWS(e)
		return awsid.NewWebIdentity(e.ctx, &awsid.WebIdentityOptions{Audience: []string{"kafka"}, HTTPClient: e.h.Client(), Cache: e.co})
	}}
}

// awsFiles are the files the AWS SDK's default configuration reads when
// no Config is given.
func awsFiles(build func(e *env) (source, error)) []setting {
	clean := func(t *testing.T) {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN",
			"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"} {
			t.Setenv(k, "")
		}
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		t.Setenv("AWS_CA_BUNDLE", "")
		t.Setenv("HOME", t.TempDir()) // no ~/.aws of the machine's
	}
	var out []setting
	// The default files: the hostile file is put at ~/.aws/<name> (moved
	// there, or linked when it cannot move, as /dev/zero).
	for _, name := range []string{"config", "credentials"} {
		out = append(out, setting{name: "~/.aws/" + name, osEnv: true, build: func(t *testing.T, e *env, p string) (source, error) {
			clean(t)
			at := filepath.Join(os.Getenv("HOME"), ".aws", name)
			require.NoError(t, os.MkdirAll(filepath.Dir(at), 0o700))
			if os.Rename(p, at) != nil {
				require.NoError(t, os.Symlink(p, at))
			}
			src, err := build(e)
			// The refusal names the file: the cell reached it (the SDK
			// alone reads the home directory of its start).
			assert.ErrorContains(t, err, filepath.Join(".aws", name))
			return src, err
		}})
	}
	for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE"} {
		out = append(out, setting{name: k, osEnv: true, build: func(t *testing.T, e *env, p string) (source, error) {
			clean(t)
			t.Setenv(k, p)
			if k == "AWS_WEB_IDENTITY_TOKEN_FILE" {
				t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/battery")
			}
			return build(e)
		}})
	}
	return out
}

// azureMIEnv names the managed-identity endpoint with the variable the
// setting's name starts with, beside extra (which selects the platform).
func azureMIEnv(name string, extra map[string]string) setting {
	return setting{name: name, osEnv: true, build: func(t *testing.T, e *env, u string) (source, error) {
		variable, _, _ := strings.Cut(name, " ")
		t.Setenv(variable, u+"/msi/token")
		for k, v := range extra {
			t.Setenv(k, v)
		}
		return azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: uniq(t), HTTPClient: e.h.Client(),
			Retry: noRetry, Cache: e.co})
	}}
}

func azureWI(t *testing.T, e *env, authority, file string, vars map[string]string) (source, error) {
	return azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: "api://kafka", ClientID: clientID, TenantID: tenant,
		TokenFilePath: file, AuthorityHost: authority, DisableInstanceDiscovery: true, Getenv: getenv(vars), Cache: e.co,
		HTTPClient: e.h.Client(), Retry: noRetry})
}

func azureChain(t *testing.T, e *env, authority string, vars map[string]string) (source, error) {
	return azure.NewDefaultChain(&azure.DefaultChainOptions{Audience: uniq(t), TenantID: tenant, ClientID: clientID, AuthorityHost: authority,
		DisableInstanceDiscovery: true, DisableAzureCLI: true, Getenv: getenv(vars), Cache: e.co,
		HTTPClient: e.h.Client(), Retry: noRetry})
}

func confluentSTS(e *env, endpoint string) (source, error) {
	e.c.Secret("subject token", subjectJWT)
	return confluent.NewSTS(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: subjectJWT, Expiry: time.Now().Add(time.Hour)}),
		&confluent.STSOptions{IdentityPoolID: "pool-a1b2", TokenURL: endpoint, HTTPClient: e.h.Client(), Cache: e.co})
}

func jwtBearer(e *env, tokenURL string, o oauthclient.JWTBearerOptions) (source, error) {
	o.TokenURL, o.HTTPClient, o.Cache = tokenURL, e.h.Client(), e.co
	if o.Assertion != nil {
		o.Assertion.Issuer, o.Assertion.Subject = "svc-1", "svc-1"
	}
	return oauthclient.NewJWTBearer(&o)
}
