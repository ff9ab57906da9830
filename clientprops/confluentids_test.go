package clientprops

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// TestConfluentIDsRefusedAlikeByEveryEntryPoint: the code options
// (confluent.Extensions, schemaregistry.TransportOptions) and the
// client.properties keys that set the same IDs refuse the same values for
// the same reason, each naming its setting as the user wrote it.
func TestConfluentIDsRefusedAlikeByEveryEntryPoint(t *testing.T) {
	t.Parallel()
	const head = "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n" +
		"sasl.login.callback.handler.class=" + azureHandlerClass + "\n" +
		"sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=app\n"
	const mod = "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t"})
	for name, tc := range map[string]struct {
		code                     func() error
		file, key, value, reason string
	}{
		"kafka cluster": {
			code: func() error { return confluent.Extensions{LogicalCluster: "lkc_1"}.Validate() },
			file: head + mod + " extension_logicalCluster='lkc_1';\n", key: "extension_logicalCluster", value: `"lkc_1"`, reason: "not a Kafka cluster ID",
		},
		"kafka pools": {
			code: func() error { return confluent.Extensions{IdentityPoolID: "pool-a, pool-b"}.Validate() },
			file: head + mod + " extension_identityPoolId='pool-a, pool-b';\n", key: "extension_identityPoolId", value: `"pool-a, pool-b"`, reason: "not an identity pool ID list",
		},
		"registry cluster": {
			code: func() error {
				_, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{LogicalCluster: "lkc-1"})
				return err
			},
			file: head + "bearer.auth.logical.cluster=lkc-1\n" + mod + ";\n", key: "bearer.auth.logical.cluster", value: `"lkc-1"`, reason: "not a Schema Registry cluster ID",
		},
		"registry pools": {
			code: func() error {
				_, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{IdentityPoolID: "pool-a,"})
				return err
			},
			file: head + "bearer.auth.identity.pool.id=pool-a,\n" + mod + ";\n", key: "bearer.auth.identity.pool.id", value: `"pool-a,"`, reason: "not an identity pool ID list",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			codeErr := tc.code()
			require.Error(t, codeErr)
			assert.Contains(t, codeErr.Error(), " is "+tc.value+", "+tc.reason)
			_, fileErr := parse([]byte(tc.file))
			require.Error(t, fileErr)
			var pe *PropertyError
			require.True(t, errors.As(fileErr, &pe), "%T: %v", fileErr, fileErr)
			assert.Contains(t, fileErr.Error(), tc.key)
			assert.Contains(t, fileErr.Error(), tc.value)
			assert.Contains(t, fileErr.Error(), tc.reason)
		})
	}
}

// TestConfluentIDFirstProblemInFileIsReported: a Schema Registry ID is
// checked where its key is read, so a bad bearer.auth.logical.cluster on
// line 1 is the error, not a later line's problem. Fails before the IDs
// were checked in the parse loop again (the check ran after the loop, so
// line 3's sasl.mechanism=PLAIN was reported).
func TestConfluentIDFirstProblemInFileIsReported(t *testing.T) {
	t.Parallel()
	for key, line := range map[string]string{
		"bearer.auth.logical.cluster":  "bearer.auth.logical.cluster=lsrc_bad",
		"bearer.auth.identity.pool.id": "bearer.auth.identity.pool.id=pol-1",
	} {
		_, err := parse([]byte(line + "\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"))
		var pe *PropertyError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, key, pe.Key)
		assert.Equal(t, 1, pe.Line)
	}
}
