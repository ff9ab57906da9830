package clientprops

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// seedIMDS is the managed identity client.properties of the SPOUD guide
// (seeds/000), verbatim.
const seedIMDS = `security.protocol=SASL_SSL
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=5e20030f-3a3c-4aea-83bc-e6aa925a148f&client_id=2c10dec2-da22-424a-b2ab-3c01766e37f3
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.mechanism=OAUTHBEARER
sasl.jaas.config= \
org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
clientId='ignored' \
clientSecret='ignored' \
extension_logicalCluster='lkc-w25n5g' \
extension_identityPoolId='pool-7yzk';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`

// seedWorkload is the AKS workload identity file of the same guide, as
// the shell heredoc writes it (variables expanded).
const seedWorkload = `security.protocol=SASL_SSL
sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/b52245db-4800-4792-975a-1d9ed49512f2/oauth2/v2.0/token
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler

sasl.mechanism=OAUTHBEARER
sasl.jaas.config= \
org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
clientId='ignored' \
clientSecret='ignored' \
useWorkloadIdentity='true' \
scope='5e20030f-3a3c-4aea-83bc-e6aa925a148f/.default' \
extension_logicalCluster='lkc-68v788' \
extension_identityPoolId='pool-7yzk';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`

// kafkaHead starts a client.properties for Kafka's own login callback
// handler (four lines); ccHead adds an empty JAAS entry, tlsHead a token
// endpoint (five lines each).
const (
	kafkaHead = `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
`
	ccHead  = kafkaHead + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n"
	tlsHead = kafkaHead + "sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n"
)

// rsaKeyFile returns a new RSA key and the path of its PKCS#8 PEM file,
// key.pem in dir.
func rsaKeyFile(t *testing.T, dir string) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return key, testpki.KeyFile(t, filepath.Join(dir, "key.pem"), key)
}

// fetchApp1 fetches src's token and checks that srv issued it to the
// client app-1, in srv's only request.
func fetchApp1(t *testing.T, src oauthbearer.TokenSource, srv *idptest.OAuthServer) oauthbearer.Token {
	t.Helper()
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "app-1", tok.Principal)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "app-1", reqs[0].ClientID)
	assert.Equal(t, tok.Value, reqs[0].Token)
	return tok
}

func TestParseClientPropertiesSeedIMDS(t *testing.T) {
	t.Parallel()
	c, err := parse([]byte(seedIMDS))
	require.NoError(t, err)
	assert.Equal(t, "SASL_SSL", c.SecurityProtocol)
	assert.Equal(t, "OAUTHBEARER", c.SASLMechanism)
	assert.Equal(t, SourceSpec{
		Kind:     SourceAzureManagedIdentity,
		Resource: "5e20030f-3a3c-4aea-83bc-e6aa925a148f",
		ClientID: "2c10dec2-da22-424a-b2ab-3c01766e37f3",
	}, c.Source)
	assert.Equal(t, "5e20030f-3a3c-4aea-83bc-e6aa925a148f", c.Source.Resource)
	assert.Equal(t, confluent.Extensions{LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool-7yzk"}, c.Extensions)
	assert.Len(t, c.Ignored, 2)
	assert.Empty(t, c.Other)
}

func TestParseClientPropertiesSeedWorkload(t *testing.T) {
	t.Parallel()
	c, err := parse([]byte(seedWorkload))
	require.NoError(t, err)
	assert.Equal(t, SourceSpec{
		Kind:          SourceAzureWorkloadIdentity,
		TenantID:      "b52245db-4800-4792-975a-1d9ed49512f2",
		AuthorityHost: "https://login.microsoftonline.com/",
		Scope:         "5e20030f-3a3c-4aea-83bc-e6aa925a148f/.default",
	}, c.Source)
	assert.Equal(t, confluent.Extensions{LogicalCluster: "lkc-68v788", IdentityPoolID: "pool-7yzk"}, c.Extensions)
}

func TestParseClientPropertiesKafkaHandler(t *testing.T) {
	t.Parallel()
	in := `bootstrap.servers=pkc-1.us-east-1.aws.confluent.cloud:9092, pkc-2:9092
security.protocol=sasl_ssl
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token
sasl.login.refresh.window.factor=0.7
sasl.login.retry.backoff.ms=200
sasl.login.retry.backoff.max.ms=5000
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
  clientId="app-1" clientSecret="s3cr\\"et" scope='kafka' extension_identityPoolId='pool-a1,pool-b2' extension_traceId="abc";
schema.registry.url=https://psrc-1.confluent.cloud
bearer.auth.credentials.source=SASL_OAUTHBEARER_INHERIT
bearer.auth.logical.cluster=lsrc-kjn9nv
client.id=my-app
acks=all
`
	c, err := parse([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, []string{"pkc-1.us-east-1.aws.confluent.cloud:9092", "pkc-2:9092"}, c.BootstrapServers)
	assert.Equal(t, "SASL_SSL", c.SecurityProtocol)
	assert.Equal(t, SourceClientCredentials, c.Source.Kind)
	assert.Equal(t, "https://idp.example.com/oauth2/token", c.Source.TokenURL)
	assert.Equal(t, "app-1", c.Source.ClientID)
	assert.Equal(t, oauthclient.Secret(`s3cr"et`), c.Source.ClientSecret)
	assert.Equal(t, "kafka", c.Source.Scope)
	assert.True(t, c.Source.RawBasicAuth, "Kafka sends the Basic credentials raw unless header.urlencode=true")
	assert.Equal(t, confluent.Extensions{IdentityPoolID: "pool-a1,pool-b2"}, c.Extensions)
	assert.Equal(t, map[string]string{"traceId": "abc"}, c.OtherExtensions)
	assert.Equal(t, 0.7, c.Cache.RefreshFraction)
	assert.Equal(t, 200*time.Millisecond, c.Cache.MinBackoff)
	assert.Equal(t, 5*time.Second, c.Cache.MaxBackoff)
	assert.Equal(t, SchemaRegistrySettings{URL: "https://psrc-1.confluent.cloud", LogicalCluster: "lsrc-kjn9nv", IdentityPoolID: "pool-a1,pool-b2"}, c.SchemaRegistry)
	require.Len(t, c.Other, 2)
	assert.Equal(t, Property{Key: "client.id", Value: "my-app", Line: 14}, c.Other[0])
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c, c, c), "s3cr")
}

func TestParseClientPropertiesKafka4Settings(t *testing.T) {
	t.Parallel()
	in := `security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/token
sasl.oauthbearer.client.credentials.client.id=app-2
sasl.oauthbearer.client.credentials.client.secret=pw
sasl.oauthbearer.scope=kafka
sasl.oauthbearer.header.urlencode=true
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ;
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`
	c, err := parse([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, "app-2", c.Source.ClientID)
	assert.Equal(t, oauthclient.Secret("pw"), c.Source.ClientSecret)
	assert.Equal(t, "kafka", c.Source.Scope)
	assert.False(t, c.Source.RawBasicAuth)
}

func TestParseClientPropertiesErrors(t *testing.T) {
	t.Parallel()
	const head = "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n"
	const azure = "sasl.login.callback.handler.class=" + azureHandlerClass + "\n"
	const kafka = "sasl.login.callback.handler.class=" + kafkaHandlerClass + "\nsasl.oauthbearer.token.endpoint.url=https://idp/token\n"
	const imds = "sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=app\n"
	const mod = "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
	tests := map[string]struct {
		in, key string
		line    int
		want    string
	}{
		"plain mechanism":     {"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n", "sasl.mechanism", 2, "OAUTHBEARER"},
		"plaintext protocol":  {"security.protocol=PLAINTEXT\n", "security.protocol", 1, "does not use SASL"},
		"unknown handler":     {head + "sasl.login.callback.handler.class=com.example.H\n" + mod + ";\n", "sasl.login.callback.handler.class", 3, "cannot be honoured"},
		"unknown jaas option": {head + kafka + mod + " clientId='a' clientSecret='topsecret' foo='bar';\n", "sasl.jaas.config", 5, `option "foo"`},
		"imds extra param":    {head + azure + "sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?resource=a&bogus=1\n" + mod + ";\n", "sasl.oauthbearer.token.endpoint.url", 4, "bogus"},
		"imds no resource":    {head + azure + "sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=1\n" + mod + ";\n", "sasl.oauthbearer.token.endpoint.url", 4, "resource"},
		"imds two ids":        {head + azure + "sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?resource=a&client_id=b&object_id=c\n" + mod + ";\n", "sasl.oauthbearer.token.endpoint.url", 4, "only one"},
		"imds with scope":     {head + azure + imds + mod + " scope='x';\n", "sasl.jaas.config", 5, "scope"},
		"workload no scope":   {head + azure + "sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/t/oauth2/v2.0/token\n" + mod + " useWorkloadIdentity='true';\n", "sasl.jaas.config", 5, "scope"},
		"workload bad url":    {head + azure + "sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/oauth2/token\n" + mod + " useWorkloadIdentity='true' scope='a/.default';\n", "sasl.oauthbearer.token.endpoint.url", 4, "Entra ID"},
		"unexpanded var":      {head + azure + "sasl.oauthbearer.token.endpoint.url=${AZURE_AUTHORITY_HOST}${AZURE_TENANT_ID}/oauth2/v2.0/token\n" + mod + ";\n", "sasl.oauthbearer.token.endpoint.url", 4, "unexpanded"},
		"unexpanded scope":    {head + azure + "sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/t/oauth2/v2.0/token\n" + mod + " useWorkloadIdentity='true' scope='${CONFLUENT_CLOUD_APP_ID}/.default';\n", "sasl.jaas.config", 5, "unexpanded"},
		"bad cluster":         {head + azure + imds + mod + " extension_logicalCluster='lkc_1';\n", "sasl.jaas.config", 5, "extension_logicalCluster"},
		"bad pool":            {head + azure + imds + mod + " extension_identityPoolId='pool-1, pool-2';\n", "sasl.jaas.config", 5, "extension_identityPoolId"},
		"bad extension key":   {head + azure + imds + mod + " extension_trace_id='x';\n", "sasl.jaas.config", 5, "ASCII letters"},
		"jaas syntax":         {head + azure + imds + mod + " clientSecret='topsecret'\n", "sasl.jaas.config", 5, "semicolon"},
		"wrong module":        {head + azure + imds + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password='topsecret';\n", "sasl.jaas.config", 5, "PlainLoginModule"},
		"broker setting":      {head + "sasl.oauthbearer.jwks.endpoint.url=https://x\n", "sasl.oauthbearer.jwks.endpoint.url", 3, "cannot be honoured"},
		"basic auth":          {head + "basic.auth.user.info=key:topsecret\n", "basic.auth.user.info", 3, "cannot be honoured"},
		"kafka no secret":     {head + kafka + mod + " clientId='a';\n", "sasl.jaas.config", 5, "clientSecret"},
		"kafka http endpoint": {head + "sasl.login.callback.handler.class=" + kafkaHandlerClass + "\nsasl.oauthbearer.token.endpoint.url=http://idp.example.com/token\n" + mod + " clientId='a' clientSecret='topsecret';\n", "sasl.oauthbearer.token.endpoint.url", 4, "https"},
		"login min period":    {head + "sasl.login.refresh.min.period.seconds=901\n", "sasl.login.refresh.min.period.seconds", 3, "Kafka allows 0 to 900 seconds"},
		"window factor range": {head + "sasl.login.refresh.window.factor=1.01\n", "sasl.login.refresh.window.factor", 3, "0.5 to 1"},
		"sr bad source":       {head + "bearer.auth.credentials.source=STATIC_TOKEN\n", "bearer.auth.credentials.source", 3, "CUSTOM"},
		"sr bad cluster":      {head + "bearer.auth.logical.cluster=lkc-1\n", "bearer.auth.logical.cluster", 3, "lsrc-"},
		"sr bad pool":         {head + "bearer.auth.identity.pool.id=pool-a, pool-b\n", "bearer.auth.identity.pool.id", 3, `"pool-a, pool-b"`},
		"sub claim":           {head + "sasl.oauthbearer.sub.claim.name=oid\n", "sasl.oauthbearer.sub.claim.name", 3, "sub"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parse([]byte(tc.in))
			require.Error(t, err)
			var pe *PropertyError
			require.True(t, errors.As(err, &pe), "want *PropertyError, got %T: %v", err, err)
			assert.Equal(t, tc.key, pe.Key)
			assert.Equal(t, tc.line, pe.Line)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), fmt.Sprintf("line %d", tc.line))
			assert.NotContains(t, err.Error(), "topsecret")
		})
	}
}

func TestParseClientPropertiesMissing(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"no mechanism": {"security.protocol=SASL_SSL\n", "sasl.mechanism"},
		"no protocol":  {"sasl.mechanism=OAUTHBEARER\n", "security.protocol"},
		"no jaas":      {"security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n", "sasl.jaas.config"},
		"no handler": {"security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\nsasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n",
			"unsecured"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parse([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestNewSourceAzureKindsNeedAzure: the root module builds no Azure
// source; it says which function does, and keeps the file's line.
func TestNewSourceAzureKindsNeedAzure(t *testing.T) {
	t.Parallel()
	for kind, in := range map[SourceKind]string{SourceAzureManagedIdentity: seedIMDS, SourceAzureWorkloadIdentity: seedWorkload} {
		c, err := parse([]byte(in))
		require.NoError(t, err)
		_, err = c.NewSource(nil)
		require.ErrorIs(t, err, ErrNeedsCloudSDK)
		var ke *KindError
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, kind, ke.Kind)
		assert.Equal(t, c.TokenURL.Line, ke.Line)
		assert.Contains(t, err.Error(), "azure.FromClientProperties")
	}
}

func TestBuildClientCredentialsAgainstEmulator(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  iss,
		Clients: map[string]idptest.OAuthClient{"app-1": {Secret: "s3cret", Scopes: []string{"kafka"}}},
	})
	in := fmt.Sprintf(`security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=%s
sasl.oauthbearer.token.endpoint.url=%s
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId='app-1' clientSecret='s3cret' scope='kafka' extension_logicalCluster='lkc-abc1';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`, kafkaHandlerClass, srv.TokenURL)
	c, err := parse([]byte(in))
	require.NoError(t, err)
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok := fetchApp1(t, src, srv)
	assert.Equal(t, map[string]string{"logicalCluster": "lkc-abc1"}, tok.Extensions)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := oauthclient.Secret("hunter2")
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "s", s)
	j, err := json.Marshal(struct{ S oauthclient.Secret }{s})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), buf.String(), string(j)} {
		assert.NotContains(t, out, "hunter2")
		assert.Contains(t, out, "redacted")
	}
	assert.Equal(t, "", oauthclient.Secret("").String())
}
