// Package oauthclient_test runs the generic OIDC sources (a token file,
// the RFC 7523 jwt-bearer grant), built from Java-style client.properties,
// through franz-go and sarama against the in-process broker.
package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

const head = `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`

// build parses props and builds its source, allowing endpoint and files.
func build(t *testing.T, props, endpoint string, files ...string) *oauthbearer.ExtensionSource {
	t.Helper()
	c, err := clientprops.Parse(strings.NewReader(props))
	require.NoError(t, err)
	src, err := c.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{endpoint}, AllowedFiles: files})
	require.NoError(t, err)
	return src
}

// fixtures returns a broker trusting iss, with a topic named after each
// properties file, and the two files' sources.
func fixtures(t *testing.T) (*oauthbearertest.Broker, map[string]func() *oauthbearer.ExtensionSource) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"token-file", "jwt-bearer"}})
	dir := t.TempDir()
	tokenPath := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenPath, []byte(iss.Mint("system:serviceaccount:orders:writer", "kafka", time.Hour, nil)), 0o600))

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyPath := testpki.KeyFile(t, filepath.Join(dir, "key.pem"), key)
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: iss, Audience: "kafka", Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})
	return broker, map[string]func() *oauthbearer.ExtensionSource{
		"token-file": func() *oauthbearer.ExtensionSource {
			return build(t, `# Kafka 4.4: org.apache.kafka.common.security.oauthbearer.FileJwtRetriever
# reads the pod's projected service-account token.
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.FileJwtRetriever
sasl.oauthbearer.token.endpoint.url=file:`+tokenPath+"\n"+head, "file:"+tokenPath)
		},
		"jwt-bearer": func() *oauthbearer.ExtensionSource {
			return build(t, `# Kafka 4.4: org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
# (KIP-1139) signs an RFC 7523 assertion with the service's key.
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=`+idp.TokenURL+`
sasl.oauthbearer.assertion.algorithm=ES256
sasl.oauthbearer.assertion.private.key.file=`+keyPath+`
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.aud=`+idp.TokenURL+`
sasl.oauthbearer.assertion.claim.jti.include=true
`+head, idp.TokenURL, keyPath)
		},
	}
}

var wantPrincipal = map[string]string{"token-file": "system:serviceaccount:orders:writer", "jwt-bearer": "orders-svc"}

// Each file's source produces and consumes through each client library.
func TestClients(t *testing.T) {
	for client, roundTrip := range clienttest.Clients() {
		t.Run(client, func(t *testing.T) {
			broker, kinds := fixtures(t)
			for name, mk := range kinds {
				t.Run(name, func(t *testing.T) {
					src := mk()
					defer src.Close()
					roundTrip(t, broker.Addrs(), name, src, name)
					checkAuths(t, broker, wantPrincipal[name])
				})
			}
		})
	}
}

// A rotated token file reaches the broker without a restart: a new
// connection after the rewrite authenticates as the new token's subject.
// Fails if the source stops re-reading the file (the cache would keep the
// first one-hour token).
func TestTokenFileRotationReachesBroker(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	path := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(path, []byte(iss.Mint("before", "kafka", time.Hour, nil)), 0o600))
	src, err := tokenfile.New(&tokenfile.Options{Path: path, PollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	defer src.Close()
	produce := func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(src, nil))))
		require.NoError(t, err)
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("x")}).FirstErr())
	}
	produce()
	rotated := iss.Mint("after", "kafka", time.Hour, nil)
	require.NoError(t, os.WriteFile(path+".new", []byte(rotated), 0o600))
	require.NoError(t, os.Rename(path+".new", path))
	require.Eventually(t, func() bool { tok, err := src.Token(context.Background()); return err == nil && tok.Value == rotated }, 10*time.Second, 5*time.Millisecond)
	produce()
	auths := broker.Authentications()
	assert.Equal(t, "after", auths[len(auths)-1].Principal)
}

func checkAuths(t *testing.T, broker *oauthbearertest.Broker, principal string) {
	t.Helper()
	auths := broker.Authentications()
	require.NotEmpty(t, auths)
	last := auths[len(auths)-1]
	require.True(t, last.Accepted, "%s: %s", last.Reason, last.Detail)
	assert.Equal(t, principal, last.Principal)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
