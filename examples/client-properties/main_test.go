package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestClientPropertiesRunsOffline runs the example offline: the guide's
// IMDS-form file drives a user-assigned managed identity, and the brokers
// see its token with the file's extensions.
func TestClientPropertiesRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "props"}.run,
		"client.properties: azure-managed-identity token source, OAUTHBEARER over SASL_PLAINTEXT, extensions identityPoolId=pool-Offl1, logicalCluster=lkc-offln1",
		"note: sasl.jaas.config option clientSecret")
	assert.Regexp(t, `produced and consumed "configured by \S+client.properties" at partition \d offset 0`, s)
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, "", "identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
}

// TestClientPropertiesKafkaHandler runs the program in its real mode on a
// file written for Kafka's own client-credentials handler, against a local
// token endpoint and brokers: nothing is injected but the file.
func TestClientPropertiesKafkaHandler(t *testing.T) {
	env, err := offline.Start(offline.ClientCredentials, &offline.Options{Topic: "orders"})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	file := writeFile(t, fmt.Sprintf(`bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.mechanism=OAUTHBEARER
sasl.oauthbearer.token.endpoint.url=%s
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId="%s" clientSecret="%s" scope="kafka" extension_logicalCluster="lkc-abc123";
acks=1
`, env.Bootstrap, env.TokenURL, env.ClientID, env.ClientSecret))

	s := offlinetest.Run(t, config{file: file, topic: "orders", allowedURLs: env.TokenURL}.run,
		"client-credentials token source",
		`produced and consumed "configured by `)
	assert.NotContains(t, s, env.ClientSecret)
	offlinetest.AllAccepted(t, env.Summary(), "orders-svc", "logicalCluster=lkc-abc123")
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
		"bad extension":          {`extension_logicalCluster="lkc 1"`, "", []string{"extension_logicalCluster"}},
		"unknown jaas option":    {`tokenFile="x"`, "", []string{"line 6", "tokenFile"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, fmt.Sprintf(base, tc.jaas, tc.extra))
			err := offlinetest.Refuses(t, config{file: file, topic: "t"}.run, tc.want...)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.NotContains(t, err.Error(), "topsecret")
		})
	}
	offlinetest.Refuses(t, config{topic: "t"}.run, "-config")
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "client.properties")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}
