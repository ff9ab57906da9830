package clientprops_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
)

// goodFile is a working managed identity file; each mistake below edits one
// line of it. Line numbers: 1 bootstrap.servers, 2 security.protocol,
// 3 sasl.mechanism, 4 handler, 5 endpoint, 6 sasl.jaas.config.
const goodFile = `bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=5e20030f-3a3c-4aea-83bc-e6aa925a148f
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required extension_logicalCluster='lkc-w25n5g' extension_identityPoolId='pool-7yzk';
`

// TestParseCommonMistakes: the mistakes people make in client.properties
// each fail Parse with an error that names the key (or JAAS option) as
// written in the file, its line, and, where a near match exists, suggests
// it.
//
// Fails before the did-you-mean, the extension near-miss check and the
// bootstrap.servers check (verified by running it on the previous
// commit): the misspelled sasl.* keys got "this authentication setting
// cannot be honoured; remove it", boostrap.servers, linger.mss and
// extension_identityPoolID / extension_logicalClustr parsed without error,
// a file without bootstrap.servers parsed, and the bad extension values
// named the Go fields Extensions.LogicalCluster / IdentityPoolID.
func TestParseCommonMistakes(t *testing.T) {
	t.Parallel()
	line := func(n int, with string) string {
		lines := strings.Split(goodFile, "\n")
		lines[n-1] = with
		return strings.Join(lines, "\n")
	}
	jaas := func(opts string) string {
		return line(6, "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "+opts+";")
	}
	tests := []struct {
		name    string
		file    string
		key     string // the key named, as written
		line    int    // 0: the error has no line (a missing key)
		suggest string // the near match suggested, if any
	}{
		{"jaas typo", strings.Replace(goodFile, "sasl.jaas.config=", "sasl.jaas.confg=", 1), "sasl.jaas.confg", 6, "sasl.jaas.config"},
		{"endpoint typo", strings.Replace(goodFile, "token.endpoint.url=", "token.endpoint.ur=", 1), "sasl.oauthbearer.token.endpoint.ur", 5, "sasl.oauthbearer.token.endpoint.url"},
		{"mechanism swap", strings.Replace(goodFile, "sasl.mechanism=", "sasl.mechansim=", 1), "sasl.mechansim", 3, "sasl.mechanism"},
		{"handler typo", strings.Replace(goodFile, "callback.handler.class=", "callback.handler.clas=", 1), "sasl.login.callback.handler.clas", 4, "sasl.login.callback.handler.class"},
		{"bootstrap typo", strings.Replace(goodFile, "bootstrap.servers=", "boostrap.servers=", 1), "boostrap.servers", 1, "bootstrap.servers"},
		{"security typo", strings.Replace(goodFile, "security.protocol=", "security.protocl=", 1), "security.protocl", 2, "security.protocol"},
		{"key in capitals", strings.Replace(goodFile, "bootstrap.servers=", "Bootstrap.Servers=", 1), "Bootstrap.Servers", 1, "bootstrap.servers"},
		{"client key typo", goodFile + "linger.mss=5\n", "linger.mss", 7, "linger.ms"},
		{"schema registry typo", goodFile + "schema.registry.ur=https://psrc-1.confluent.cloud\n", "schema.registry.ur", 7, "schema.registry.url"},
		{"pool ID in capitals", jaas("extension_logicalCluster='lkc-w25n5g' extension_identityPoolID='pool-7yzk'"), "extension_identityPoolID", 6, "extension_identityPoolId"},
		{"cluster misspelt", jaas("extension_logicalClustr='lkc-w25n5g' extension_identityPoolId='pool-7yzk'"), "extension_logicalClustr", 6, "extension_logicalCluster"},
		{"pool snake case", jaas("extension_identity_pool_id='pool-7yzk'"), "extension_identity_pool_id", 6, "extension_identityPoolId"},
		{"jaas option typo", jaas("extension_logicalCluster='lkc-w25n5g' clientID='x'"), "clientID", 6, "clientId"},
		{"bad cluster value", jaas("extension_logicalCluster='lkc w25n5g'"), "extension_logicalCluster", 6, ""},
		{"bad pool value", jaas("extension_identityPoolId='pol-7yzk'"), "extension_identityPoolId", 6, ""},
		{"no bootstrap", strings.Replace(goodFile, "bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092\n", "", 1), "bootstrap.servers", 0, ""},
		{"empty bootstrap", line(1, "bootstrap.servers= , "), "bootstrap.servers", 1, ""},
		{"bad mechanism value", line(3, "sasl.mechanism=PLAIN"), "sasl.mechanism", 3, ""},
		{"bad protocol value", line(2, "security.protocol=SSL"), "security.protocol", 2, ""},
	}
	require.GreaterOrEqual(t, len(tests), 15)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := clientprops.Parse(strings.NewReader(tc.file))
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, tc.key, "names the key as written")
			if tc.line > 0 {
				assert.Contains(t, msg, fmt.Sprintf("line %d", tc.line))
				var pe *clientprops.PropertyError
				require.True(t, errors.As(err, &pe), "%T", err)
				assert.Equal(t, tc.line, pe.Line)
			}
			if tc.suggest != "" {
				assert.Contains(t, msg, "did you mean "+tc.suggest+"?")
			} else {
				assert.NotContains(t, msg, "did you mean")
			}
			assert.NotContains(t, msg, "Extensions.", "names the file's key, not the Go field")
			assert.NotContains(t, msg, "cannot be honoured; remove it", "a misspelling is not a setting to remove")
		})
	}
}

// Correctly spelt Kafka keys this package does not interpret still pass
// through to Config.Other, and other extensions are still sent: the
// did-you-mean fires only on near misses.
func TestParseKeepsWhatIsSpeltRight(t *testing.T) {
	t.Parallel()
	file := strings.Replace(goodFile, "extension_identityPoolId='pool-7yzk'", "extension_identityPoolId='pool-7yzk' extension_traceId='abc'", 1) +
		"linger.ms=5\nacks=all\nmy.app.setting=1\nfetch.min.bytes=1\nfetch.max.bytes=52428800\n"
	c, err := clientprops.Parse(strings.NewReader(file))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"traceId": "abc"}, c.OtherExtensions)
	var keys []string
	for _, p := range c.Other {
		keys = append(keys, p.Key)
	}
	assert.Equal(t, []string{"linger.ms", "acks", "my.app.setting", "fetch.min.bytes", "fetch.max.bytes"}, keys)
}
