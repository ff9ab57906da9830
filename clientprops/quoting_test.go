package clientprops

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const quotingHead = `bootstrap.servers=pkc-1.westeurope.azure.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token
`

// TestJAASErrorsNeverQuoteASecretsTail: a client secret holding a ';' or a
// quote, written unquoted or badly quoted, splits into tokens that the
// parser reads as a second login module, a control flag or an option
// name. The error must name the problem without quoting any of them.
//
// Fails on main: it quoted the tail as the second entry's module
// ("login module control flag not specified after tailOfTheSecret0123"),
// as its control flag (invalid login module control flag
// "tailOfTheSecret0123"), and as an option name ("option
// tailOfTheSecret0123 cannot be honoured").
func TestJAASErrorsNeverQuoteASecretsTail(t *testing.T) {
	t.Parallel()
	const mod = "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='app' "
	for name, jaas := range map[string]string{
		"semicolon, then end":    `clientSecret=s3cr;tailOfTheSecret0123`,
		"semicolon, then a flag": `clientSecret=s3cr;x tailOfTheSecret0123;`,
		"semicolon, then words":  `clientSecret=s3cr;tailOfTheSecret0123 required;`,
		"quote inside":           `clientSecret="s3cr"tailOfTheSecret0123=more;`,
		"quote inside, quoted":   `clientSecret='s3cr'"tailOfTheSecret0123"='more';`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(quotingHead + mod + jaas + "\n"))
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "tailOfTheSecret", "a piece of the secret is quoted")
			assert.Contains(t, err.Error(), "line 6: sasl.jaas.config:", "the key and line as written")
		})
	}
}

// TestUnexpandedVariableQuotesNoURLSecrets: a ${...} left in a URL (a
// heredoc that was not expanded) is reported with the variable named and
// the value quoted without its user info, query or fragment.
//
// Fails on main: the value was quoted whole with %q, password and
// client_secret included.
func TestUnexpandedVariableQuotesNoURLSecrets(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ file, key, variable string }{
		"token endpoint": {
			strings.Replace(quotingHead, "https://idp.example.com/oauth2/token",
				"https://svc:hunter2-password@${IDP_HOST}/oauth2/token?client_secret=query-secret-0123#frag-secret-0123", 1) +
				"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='a' clientSecret='b';\n",
			"line 5: sasl.oauthbearer.token.endpoint.url:", "${IDP_HOST}",
		},
		"jaas option": {
			quotingHead + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='a' clientSecret='b' " +
				"scope='https://svc:hunter2-password@api.example.com/${AUDIENCE}?sig=query-secret-0123';\n",
			"line 6: sasl.jaas.config:", "${AUDIENCE}",
		},
		"long value": {
			strings.Replace(quotingHead, "https://idp.example.com/oauth2/token",
				"https://svc:hunter2-password@idp.example.com/"+strings.Repeat("p/", 200)+"${TENANT}/token?client_secret=query-secret-0123", 1) +
				"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='a' clientSecret='b';\n",
			"line 5: sasl.oauthbearer.token.endpoint.url:", "${TENANT}",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tc.file))
			require.Error(t, err)
			msg := err.Error()
			for _, s := range []string{"hunter2", "query-secret", "frag-secret", "svc:"} {
				assert.NotContains(t, msg, s)
			}
			assert.Contains(t, msg, tc.key)
			assert.Contains(t, msg, "unexpanded variable")
			assert.Contains(t, msg, `"`+tc.variable+`"`, "the variable is named")
			assert.Less(t, len(msg), 1000, "a long value is clipped around the variable")
		})
	}
}

// TestParsedConfigPrintsNoURLSecrets: the parsed configuration, printed
// with every fmt verb, slog's handlers and JSON, shows the URLs of the
// file without user info, query or fragment.
//
// Fails on main: %+v of the Config printed the Schema Registry URL's
// password and the token endpoint's query secret (TokenURL,
// Source.TokenURL and SchemaRegistry.URL as written).
func TestParsedConfigPrintsNoURLSecrets(t *testing.T) {
	t.Parallel()
	file := strings.Replace(quotingHead, "https://idp.example.com/oauth2/token", "https://idp.example.com/oauth2/token?client_secret=query-secret-0123", 1) +
		"sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='a' clientSecret='jaas-secret-0123';\n" +
		"schema.registry.url=https://sr-user:sr-password-0123@psrc-1.us-east-2.aws.confluent.cloud\n" +
		"ssl.truststore.location=https://ts-user:ts-password-0123@example.com/ts.jks\n"
	cfg, err := Parse(strings.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, "https://sr-user:sr-password-0123@psrc-1.us-east-2.aws.confluent.cloud", cfg.SchemaRegistry.URL, "the values themselves are kept")
	var outs []string
	for _, v := range []any{cfg, *cfg, cfg.Source, &cfg.Source, cfg.SchemaRegistry, cfg.TokenURL, cfg.Other} {
		outs = append(outs, fmt.Sprintf("%v %+v %#v %s", v, v, v, v))
		j, err := json.Marshal(v)
		require.NoError(t, err)
		outs = append(outs, string(j))
		var b strings.Builder
		slog.New(slog.NewJSONHandler(&b, nil)).Info("cfg", "v", v)
		slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", "v", v)
		outs = append(outs, b.String())
	}
	all := strings.Join(outs, "\n")
	for _, s := range []string{"query-secret", "sr-password", "sr-user", "ts-password", "jaas-secret"} {
		assert.NotContains(t, all, s)
	}
	assert.Contains(t, all, "psrc-1.us-east-2.aws.confluent.cloud")
	assert.Contains(t, all, "https://idp.example.com/oauth2/token")
}

// TestKeyWithControlsIsEscaped: a key is named as written, except that a
// key holding control characters (written with \uXXXX escapes) is quoted
// escaped, so it cannot forge a log line.
//
// Fails on main: the key went into the error with its raw line break
// and escape sequence.
func TestKeyWithControlsIsEscaped(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader(quotingHead + `sasl.x\u001b[31m\u000aFORGED\ level=ERROR=1` + "\n"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	assert.NotContains(t, err.Error(), "\x1b")
	assert.Contains(t, err.Error(), `line 6: "sasl.x\x1b[31m\nFORGED level": this authentication setting cannot be honoured`)

	_, err = Parse(strings.NewReader(quotingHead + "sasl.kerberos.service.name=kafka\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 6: sasl.kerberos.service.name: ", "an ordinary key as written")
}
