package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestClientPropertiesRunsOffline runs the example offline: the seed's
// IMDS-form file drives a user-assigned managed identity, and the brokers
// see its token with the file's extensions.
func TestClientPropertiesRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "props", records: 3}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "Azure managed identity (client_id ")
	assert.Contains(t, s, "SASL_PLAINTEXT/OAUTHBEARER")
	assert.Contains(t, s, "note: sasl.jaas.config option clientSecret")
	assert.Equal(t, 3, strings.Count(s, `consumed "record`))
	assert.Contains(t, s, "0 refused; principal")
	assert.Contains(t, s, "extensions map[identityPoolId:pool-7yzk logicalCluster:lkc-w25n5g]")
	assert.Contains(t, s, "IMDS emulator: 1 tokens issued")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestClientPropertiesKafkaHandler runs the program in its real mode on a
// file written for Kafka's own client-credentials handler, against a
// local token endpoint and brokers: no builder is injected.
func TestClientPropertiesKafkaHandler(t *testing.T) {
	t.Parallel()
	iss := oauthbearertest.NewIssuer(nil)
	t.Cleanup(iss.Close)
	idp := oauthbearertest.NewOAuthServer(&oauthbearertest.OAuthServerOptions{
		Issuer: iss, Clients: map[string]oauthbearertest.OAuthClient{"orders-svc": {Secret: "hunter2-secret", Scopes: []string{"kafka"}}},
	})
	t.Cleanup(idp.Close)
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	t.Cleanup(broker.Close)
	file := writeFile(t, fmt.Sprintf(`bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.mechanism=OAUTHBEARER
sasl.oauthbearer.token.endpoint.url=%s
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId="orders-svc" clientSecret="hunter2-secret" scope="kafka" extension_logicalCluster="lkc-abc123";
acks=1
`, broker.Addrs()[0], idp.TokenURL()))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{file: file, topic: "orders", records: 2, allowedURLs: idp.TokenURL()}), out.String())
	s := out.String()
	assert.Contains(t, s, "OAuth client credentials for client orders-svc")
	assert.Equal(t, 2, strings.Count(s, `consumed "record`))
	assert.NotContains(t, s, "hunter2")
	auths := broker.Authentications()
	require.NotEmpty(t, auths)
	assert.True(t, auths[0].Accepted)
	assert.Equal(t, "orders-svc", auths[0].Principal)
	assert.Equal(t, map[string]string{"logicalCluster": "lkc-abc123"}, auths[0].Extensions)
}

// TestClientPropertiesRefusals checks that what cannot be honoured is an
// error naming the key and line, with no secret in it.
func TestClientPropertiesRefusals(t *testing.T) {
	t.Parallel()
	const base = `bootstrap.servers=127.0.0.1:1
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="svc" clientSecret="hunter2-secret" %s;
%s`
	for name, tc := range map[string]struct {
		jaas, extra string
		want        []string
	}{
		"unknown client setting": {"", "ssl.keystore.password=topsecret-pw\n", []string{"line 7", "ssl.keystore.password"}},
		"bad acks":               {"", "acks=some\n", []string{"line 7", "acks"}},
		"bad extension":          {`extension_logicalCluster="lkc 1"`, "", []string{"LogicalCluster"}},
		"unknown jaas option":    {`tokenFile="x"`, "", []string{"line 6", "tokenFile"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, fmt.Sprintf(base, tc.jaas, tc.extra))
			err := run(context.Background(), &bytes.Buffer{}, config{file: file, topic: "t", records: 1})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "hunter2")
			assert.NotContains(t, err.Error(), "topsecret")
		})
	}
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "t"})
	require.ErrorContains(t, err, "-config")
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "client.properties")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}
