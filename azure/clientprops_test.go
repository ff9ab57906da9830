package azure_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// imdsFile is a confluent-oauth-extensions managed identity file whose
// IMDS URL carries query (resource and an identity selector).
func imdsFile(query url.Values) string {
	return `security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?` + query.Encode() + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required extension_logicalCluster='lkc-w25n5g';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`
}

// TestFromClientPropertiesKeepsTheIdentity: the identity the file's IMDS
// URL selects (client_id, msi_res_id, object_id, or none) is the one the
// token is issued for, so building drops nothing the description says.
//
// Fails when propsManagedID drops a selector (checked by returning nil for
// msi_res_id and object_id: those cases got the system-assigned identity).
func TestFromClientPropertiesKeepsTheIdentity(t *testing.T) {
	t.Parallel()
	user := idptest.ManagedIdentity{ClientID: "8e1c0000-0000-4000-8000-0000000000c1", ObjectID: "8e1c0000-0000-4000-8000-0000000000b1",
		ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kafka-props"}
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{UserAssigned: []idptest.ManagedIdentity{user}})
	for name, tc := range map[string]struct {
		key, value, want string
	}{
		"system assigned": {want: m.SystemAssigned.ObjectID},
		"client_id":       {"client_id", user.ClientID, user.ObjectID},
		"msi_res_id":      {"msi_res_id", user.ResourceID, user.ObjectID},
		"object_id":       {"object_id", user.ObjectID, user.ObjectID},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"api-version": {"2018-02-01"}, "resource": {uniqueTarget(t)}}
			if tc.key != "" {
				q.Set(tc.key, tc.value)
			}
			cfg, err := clientprops.Parse(strings.NewReader(imdsFile(q)))
			require.NoError(t, err)
			src, err := azure.FromClientProperties(cfg, &clientprops.BuildOptions{HTTPClient: m.Client(), AllowedURLs: []string{cfg.TokenURL.Value}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			tok, err := src.Token(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, tc.want, tok.Principal)
			assert.Equal(t, map[string]string{"logicalCluster": "lkc-w25n5g"}, tok.Extensions)
		})
	}
}

// TestFromClientPropertiesEveryKind: one call builds a file of any kind;
// the allow-list applies on this path too (enforced by clientprops).
func TestFromClientPropertiesEveryKind(t *testing.T) {
	t.Parallel()
	// Client credentials: delegated to clientprops.
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"app-1": {Secret: "s3cret", Scopes: []string{"kafka"}}},
	})
	cc, err := clientprops.Parse(strings.NewReader(fmt.Sprintf(`security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=%s
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='app-1' clientSecret='s3cret' scope='kafka';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`, srv.TokenURL)))
	require.NoError(t, err)
	_, err = azure.FromClientProperties(cc, nil)
	require.ErrorIs(t, err, clientprops.ErrURLNotAllowed, "an unlisted client-credentials endpoint is refused on the azure path too")
	src, err := azure.FromClientProperties(cc, &clientprops.BuildOptions{AllowedURLs: []string{srv.TokenURL}})
	require.NoError(t, err)
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "app-1", tok.Principal)
	_ = src.Close()

	// Workload identity: client ID and token file from the environment,
	// as the Java handler.
	wi := `security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/b52245db-4800-4792-975a-1d9ed49512f2/oauth2/v2.0/token
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required useWorkloadIdentity='true' scope='5e20030f-3a3c-4aea-83bc-e6aa925a148f/.default';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`
	w, err := clientprops.Parse(strings.NewReader(wi))
	require.NoError(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("k8s-token"), 0o600))
	env := map[string]string{"AZURE_CLIENT_ID": "da4ec9ae-b5c9-46be-96a2-077a500ad963", "AZURE_FEDERATED_TOKEN_FILE": tokenFile}
	src, err = azure.FromClientProperties(w, &clientprops.BuildOptions{Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	_ = src.Close()
	_, err = azure.FromClientProperties(w, &clientprops.BuildOptions{Getenv: func(string) string { return "" }})
	require.ErrorContains(t, err, "AZURE_CLIENT_ID", "without AZURE_CLIENT_ID the workload identity cannot be built")
	lookalike, err := clientprops.Parse(strings.NewReader(strings.Replace(wi, "login.microsoftonline.com", "login.microsoftonline.com.evil.example", 1)))
	require.NoError(t, err)
	_, err = azure.FromClientProperties(lookalike, &clientprops.BuildOptions{Getenv: func(k string) string { return env[k] }})
	require.ErrorIs(t, err, clientprops.ErrURLNotAllowed)

	// An IMDS URL on another host cannot be honoured: azidentity picks
	// the endpoint.
	q := url.Values{"resource": {"api://kafka"}}
	m, err := clientprops.Parse(strings.NewReader(strings.Replace(imdsFile(q), "169.254.169.254", "127.0.0.1:8080", 1)))
	require.NoError(t, err)
	_, err = azure.FromClientProperties(m, &clientprops.BuildOptions{AllowedURLs: []string{m.TokenURL.Value}})
	require.ErrorContains(t, err, "127.0.0.1:8080")
}

// A workload identity file in a pod without the webhook's variables: the
// error names the file's line and the variables, not
// WorkloadIdentityOptions fields the file cannot set.
//
// Fails before: "AZURE_CLIENT_ID is not set and
// WorkloadIdentityOptions.ClientID is empty; ... or set ClientID".
func TestFromClientPropertiesWorkloadIdentityEnvMissing(t *testing.T) {
	t.Parallel()
	cc, err := clientprops.Parse(strings.NewReader(`security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://login.microsoftonline.com/b52245db-4800-4792-975a-1d9ed49512f2/oauth2/v2.0/token
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required useWorkloadIdentity='true' scope='api://kafka/.default';
bootstrap.servers=kafka:9093
`))
	require.NoError(t, err)
	_, err = azure.FromClientProperties(cc, &clientprops.BuildOptions{Getenv: func(k string) string {
		return map[string]string{azure.EnvClientID: "da4ec9ae-b5c9-46be-96a2-077a500ad963"}[k]
	}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "client.properties line 4: sasl.oauthbearer.token.endpoint.url: useWorkloadIdentity='true' reads the workload's identity from the environment, but AZURE_FEDERATED_TOKEN_FILE is not set")
	assert.NotContains(t, err.Error(), "Options")
}
