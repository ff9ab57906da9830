package clientprops

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Java truststore or keystore (JKS, Kafka's default type, or PKCS12)
// in the JAAS options is refused with the key and line of the JAAS
// setting, the option and type as written, the command that converts it
// to PEM and the PEM setting to use instead; its password never shows.
func TestJavaKeystoresRefusedWithKeyLineAndFix(t *testing.T) {
	t.Parallel()
	// The JAAS line is line 7: tlsHead is five lines, then a comment.
	head := tlsHead + "# the token endpoint's TLS\n"
	jaas := func(opts string) string {
		return head + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='c' clientSecret='s' " + opts + ";\n"
	}
	tests := map[string]struct {
		opts string
		want []string
	}{
		"JKS truststore by default": {"ssl.truststore.location='/etc/kafka/ts.jks' ssl.truststore.password='hunter2-store'",
			[]string{"option ssl.truststore.type", "JKS", "keytool -exportcert -rfc", "ssl.truststore.type='PEM'"}},
		"PKCS12 truststore": {"ssl.truststore.type='PKCS12' ssl.truststore.location='/etc/kafka/ts.p12' ssl.truststore.password='hunter2-store'",
			[]string{"option ssl.truststore.type", "PKCS12", "openssl pkcs12", "-nokeys", "ssl.truststore.type='PEM'"}},
		"JKS keystore by default": {"ssl.keystore.location='/etc/kafka/ks.jks' ssl.keystore.password='hunter2-store' ssl.key.password='hunter2-key'",
			[]string{"option ssl.keystore.type", "JKS", "openssl pkcs12", "ssl.keystore.type='PEM'", "ssl.key.password"}},
		"PKCS12 keystore": {"ssl.keystore.type='PKCS12' ssl.keystore.location='/etc/kafka/ks.p12' ssl.keystore.password='hunter2-store'",
			[]string{"option ssl.keystore.type", "PKCS12", "openssl pkcs12", "ssl.keystore.type='PEM'"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(jaas(tc.opts)))
			var pe *PropertyError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, "sasl.jaas.config", pe.Key)
			assert.Equal(t, 7, pe.Line)
			assert.Contains(t, err.Error(), "line 7: sasl.jaas.config: ")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}
