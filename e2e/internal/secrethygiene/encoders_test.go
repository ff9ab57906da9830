package secrethygiene

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// TestEncodersRedact feeds a parsed client.properties (with keystore and
// key passwords, a PEM key and a JAAS client secret), its properties, its
// JAAS options, a Token and every type holding a token or a source
// through fmt, slog, JSON, YAML, XML, encoding.TextMarshaler and gob.
// fails before confluent's Property, JAASOption and Secret and
// oauthbearer's Token implemented the YAML, XML, text and gob encoders:
// ClientConfig.Other printed ssl.keystore.password, ssl.key.password and
// the PEM key, and a Token's value went out through YAML, XML and gob.
// The URL cases fail before SourceSpec, SchemaRegistrySettings and
// Property printed URLs without user info and query (#21): the token
// endpoint's query secret and the registry URL's password were printed.
func TestEncodersRedact(t *testing.T) {
	c := newCollector()
	const keystorePass, keyPass, jaasSecret = "keystore-pass-0123456789abcdef", "key-pass-0123456789abcdefghij", "jaas-client-secret-0123456789"
	const urlPass, urlQuery = "registry-url-password-0123456789", "endpoint-query-secret-0123456789"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for label, v := range map[string]string{"keystore password": keystorePass, "key password": keyPass, "JAAS client secret": jaasSecret,
		"password in a URL's user info": urlPass, "secret in a URL's query": urlQuery} {
		c.secret(label, v)
	}
	for _, line := range strings.Split(strings.TrimSpace(pemKey), "\n") {
		if !strings.HasPrefix(line, "-----") {
			c.secret("PEM private key line", line)
		}
	}
	props := `bootstrap.servers=pkc-1.us-east-1.aws.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
ssl.keystore.password=` + keystorePass + `
ssl.key.password=` + keyPass + `
ssl.keystore.key=` + strings.ReplaceAll(pemKey, "\n", `\n`) + `
ssl.keystore.certificate.chain=` + strings.ReplaceAll(pemKey, "\n", `\n`) + `
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/token?client_secret=` + urlQuery + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="app-1" clientSecret="` + jaasSecret + `";
schema.registry.url=https://sr-user:` + urlPass + `@psrc-1.us-east-2.aws.confluent.cloud
`
	cfg, err := clientprops.Parse(strings.NewReader(props))
	require.NoError(t, err)
	require.NotEmpty(t, cfg.Other)
	c.value(cfg)
	c.value(*cfg)
	c.value(cfg.Other)
	for _, p := range cfg.Other {
		c.value(p)
	}
	c.value(cfg.TokenURL)
	c.value(cfg.Source)
	c.value(cfg.SchemaRegistry)
	c.value(cfg.Source.ClientSecret)

	iss := idptest.NewIssuer(t, nil)
	tok := oauthbearer.Token{Value: iss.Mint("workload-1", "kafka", time.Hour, nil), Expiry: time.Now().Add(time.Hour), Principal: "workload-1",
		Extensions: map[string]string{"logicalCluster": "lkc-abc123"}}
	c.secret("token", tok.Value)
	c.value(tok)
	c.value(&tok)
	c.value([]oauthbearer.Token{tok})
	c.value(map[string]oauthbearer.Token{"t": tok})
	c.value(struct{ Tok oauthbearer.Token }{tok})

	cache, err := oauthbearer.NewCache(oauthbearer.StaticTokenSource(tok), fastCache(c))
	require.NoError(t, err)
	got, err := cache.Token(tctx(t))
	require.NoError(t, err)
	ext, err := oauthbearer.WithExtensions(cache, map[string]string{"identityPoolId": "pool-a1b2"})
	require.NoError(t, err)
	tr, err := schemaregistry.NewTransport(cache, &schemaregistry.TransportOptions{LogicalCluster: "lsrc-abc123", IdentityPoolID: "pool-a1b2"})
	require.NoError(t, err)
	hp, err := schemaregistry.NewHeaderProvider(cache, &schemaregistry.HeaderProviderOptions{LogicalCluster: "lsrc-abc123", IdentityPoolID: "pool-a1b2"})
	require.NoError(t, err)
	sp := must(saramasasl.NewTokenProvider(cache, nil))
	_, err = sp.Token()
	require.NoError(t, err)
	for _, v := range []any{got, cache, ext, tr, hp, sp, must(franzsasl.Mechanism(cache, nil)), must(kafkagosasl.Mechanism(cache, nil))} {
		c.value(v)
	}
	require.NoError(t, cache.Close())
	c.check(t)
}

// TestPanickingSources: a source that panics with a token, a secret or a
// struct holding one in its message; the cache's error and log records
// must not quote it.
// fails before describePanic: the cache quoted %v of the panic value.
func TestPanickingSources(t *testing.T) {
	c := newCollector()
	iss := idptest.NewIssuer(t, nil)
	jwt := iss.Mint("workload-1", "kafka", time.Hour, nil)
	c.secret("token in a panic", jwt)
	c.secret("secret in a panic", clientSecret)
	type creds struct{ ClientSecret string }
	for _, v := range []any{"refreshing " + jwt, creds{clientSecret}, &creds{clientSecret}, errorString("failed with " + jwt)} {
		src, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) { panic(v) }), fastCache(c))
		require.NoError(t, err)
		useErr(t, c, "panicking source", src)
	}
	c.check(t)
}

type errorString string

func (e errorString) Error() string { return string(e) }
