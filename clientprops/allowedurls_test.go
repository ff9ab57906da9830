package clientprops

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// The tests in this file fail before the allow-list (verified by making
// checkAllowed return nil): Build accepted every token endpoint a file
// named, so the refused cases built a source, and a file's workload
// identity endpoint on any https host was handed to the builder.

// ccProperties is a Kafka client-credentials file naming endpoint on
// line 4.
func ccProperties(endpoint string) string {
	return fmt.Sprintf(`security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=%s
sasl.oauthbearer.token.endpoint.url=%s
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId='app-1' clientSecret='s3cret-value' scope='kafka';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`, kafkaHandlerClass, endpoint)
}

func noEnv(string) string { return "" }

func envWith(v string) func(string) string {
	return func(k string) string {
		if k == AllowedURLsEnv {
			return v
		}
		return ""
	}
}

func ccServer(t *testing.T) *idptest.OAuthServer {
	return idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"app-1": {Secret: "s3cret-value", Scopes: []string{"kafka"}}},
	})
}

// requireRefused checks the refusal: a *PropertyError on the endpoint's
// key and line, matching ErrURLNotAllowed, quoting the URL without user
// info or query, and saying what to set.
func requireRefused(t *testing.T, err error, line int) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrURLNotAllowed)
	var pe *PropertyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "sasl.oauthbearer.token.endpoint.url", pe.Key)
	assert.Equal(t, line, pe.Line)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf("line %d: sasl.oauthbearer.token.endpoint.url: the token endpoint ", line))
	assert.Contains(t, msg, "BuildOptions.AllowedURLs")
	assert.Contains(t, msg, "#token-endpoint-not-allowed")
	assert.NotContains(t, msg, "s3cret")
}

func TestAllowedURLsRefusedByDefault(t *testing.T) {
	t.Parallel()
	srv := ccServer(t)
	c, err := parse([]byte(ccProperties(srv.TokenURL)))
	require.NoError(t, err)
	src, err := c.NewSource(&BuildOptions{Getenv: noEnv})
	if src != nil {
		_ = src.Close()
	}
	requireRefused(t, err, 4)
	assert.Contains(t, err.Error(), AllowedURLsEnv, "the default's fix names both settings")
	assert.Contains(t, err.Error(), srv.TokenURL)
	assert.Empty(t, srv.Requests(), "nothing was sent")
}

func TestAllowedURLsRefusalQuotesNoUserInfoOrQuery(t *testing.T) {
	t.Parallel()
	c, err := parse([]byte(ccProperties("https://alice:pa55word@idp.example.com/oauth2/token?client_secret=qu3ry")))
	require.NoError(t, err)
	_, err = c.NewSource(&BuildOptions{Getenv: noEnv})
	requireRefused(t, err, 4)
	assert.Contains(t, err.Error(), `"https://idp.example.com/oauth2/token" is not allowed`)
	assert.NotContains(t, err.Error(), "pa55word")
	assert.NotContains(t, err.Error(), "qu3ry")
}

func TestAllowedURLsOptionAllows(t *testing.T) {
	t.Parallel()
	srv := ccServer(t)
	c, err := parse([]byte(ccProperties(srv.TokenURL)))
	require.NoError(t, err)
	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{"https://idp.example.com/token", " " + srv.TokenURL + " "}, Getenv: noEnv})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	fetchApp1(t, src, srv)
}

func TestAllowedURLsEnvHonoured(t *testing.T) {
	t.Parallel()
	srv := ccServer(t)
	c, err := parse([]byte(ccProperties(srv.TokenURL)))
	require.NoError(t, err)

	src, err := c.NewSource(&BuildOptions{Getenv: envWith("https://idp.example.com/token, " + srv.TokenURL + " ,")})
	require.NoError(t, err, "the environment variable, comma-separated and trimmed as Kafka's property")
	_ = src.Close()

	_, err = c.NewSource(&BuildOptions{Getenv: envWith("https://idp.example.com/token")})
	requireRefused(t, err, 4)
	assert.Contains(t, err.Error(), "it is not in the environment variable "+AllowedURLsEnv+" (1 entries")
}

func TestAllowedURLsOptionOverridesEnv(t *testing.T) {
	t.Parallel()
	srv := ccServer(t)
	c, err := parse([]byte(ccProperties(srv.TokenURL)))
	require.NoError(t, err)

	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{"https://idp.example.com/token"}, Getenv: envWith(srv.TokenURL)})
	requireRefused(t, err, 4)
	assert.Contains(t, err.Error(), "it is not in BuildOptions.AllowedURLs (1 entries")
	assert.Contains(t, err.Error(), "which overrides the environment variable")

	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{}, Getenv: envWith(srv.TokenURL)})
	requireRefused(t, err, 4) // a non-nil empty list allows nothing

	src, err := c.NewSource(&BuildOptions{AllowedURLs: []string{srv.TokenURL}, Getenv: envWith("https://idp.example.com/token")})
	require.NoError(t, err)
	_ = src.Close()

	src, err = c.NewSource(&BuildOptions{AllowedURLs: nil, Getenv: envWith(srv.TokenURL)})
	require.NoError(t, err, "nil is unset: the environment applies")
	_ = src.Close()
}

// TestAllowedURLsComparedAsKafka: Kafka 4 (ConfigurationUtils) splits
// the property at commas, trims each entry and the configured value, and
// tests set membership: whole URL, exact, no case folding, no
// normalisation, no prefixes.
func TestAllowedURLsComparedAsKafka(t *testing.T) {
	t.Parallel()
	const u = "https://idp.example.com/oauth2/token"
	for name, tc := range map[string]struct {
		env, fileURL string
		allowed      bool
	}{
		"exact":                         {u, u, true},
		"entry trimmed":                 {"\t " + u + "  ", u, true},
		"value trimmed":                 {u, u + "   ", true},
		"one of several":                {"https://a.example.com/t," + u + ",https://b.example.com/t", u, true},
		"trailing slash differs":        {u + "/", u, false},
		"host case differs":             {"https://IDP.example.com/oauth2/token", u, false},
		"scheme case differs":           {"HTTPS://idp.example.com/oauth2/token", u, false},
		"default port written":          {"https://idp.example.com:443/oauth2/token", u, false},
		"query added in file":           {u, u + "?tenant=x", false},
		"prefix is not a match":         {"https://idp.example.com/", u, false},
		"host only is not a match":      {"idp.example.com", u, false},
		"percent-encoding differs":      {"https://idp.example.com/oauth2/%74oken", u, false},
		"only commas allow nothing":     {" , ,", u, false},
		"empty env means the default":   {"", u, false},
		"empty env default allows IMDS": {"", "http://169.254.169.254/metadata/identity/oauth2/token?resource=x", true},
	} {
		t.Run(name, func(t *testing.T) {
			c := &Config{TokenURL: Property{Key: "sasl.oauthbearer.token.endpoint.url", Value: tc.fileURL, Line: 7}}
			err := c.checkAllowed(&BuildOptions{Getenv: envWith(tc.env)})
			if tc.allowed {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrURLNotAllowed)
			assert.Contains(t, err.Error(), "line 7: sasl.oauthbearer.token.endpoint.url")
		})
	}
}

// TestAllowedURLsDefaultAzure: with no allow-list, the guides' IMDS and
// workload identity files build unchanged, and anything else is refused
// before anything is built: a workload identity file naming another https
// host would otherwise send the federated token there.
func TestAllowedURLsDefaultAzure(t *testing.T) {
	t.Parallel()
	// An Azure file that passes the allow-list gets the *KindError that
	// sends it to azure.FromClientProperties (which calls NewSource first).
	built := 0
	b := &BuildOptions{Getenv: noEnv}
	for _, in := range []string{
		seedIMDS,
		seedWorkload,
		strings.Replace(seedWorkload, "login.microsoftonline.com", "login.microsoftonline.us", 1),
		strings.Replace(seedWorkload, "login.microsoftonline.com", "login.chinacloudapi.cn", 1),
	} {
		c, err := parse([]byte(in))
		require.NoError(t, err)
		_, err = c.NewSource(b)
		require.ErrorIs(t, err, ErrNeedsCloudSDK)
		built++
	}
	require.Equal(t, 4, built)

	for name, in := range map[string]string{
		"lookalike authority":   strings.Replace(seedWorkload, "login.microsoftonline.com", "login.microsoftonline.com.evil.example", 1),
		"other authority":       strings.Replace(seedWorkload, "login.microsoftonline.com", "idp.example.com", 1),
		"authority with port":   strings.Replace(seedWorkload, "login.microsoftonline.com", "login.microsoftonline.com:8443", 1),
		"IMDS on another host":  strings.Replace(seedIMDS, "169.254.169.254", "127.0.0.1:8080", 1),
		"IMDS address and port": strings.Replace(seedIMDS, "169.254.169.254", "169.254.169.254:8080", 1),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := parse([]byte(in))
			require.NoError(t, err)
			_, err = c.NewSource(&BuildOptions{Getenv: noEnv})
			requireRefused(t, err, 2)
			assert.Contains(t, err.Error(), "with no allow-list set, only the Azure identity endpoints may be contacted")
		})
	}

	// Once an allow-list is set it is the whole list, as in Kafka: the
	// built-in Azure endpoints are not added to it.
	c, err := parse([]byte(seedIMDS))
	require.NoError(t, err)
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{"https://idp.example.com/token"}})
	requireRefused(t, err, 2)
	_, err = c.NewSource(&BuildOptions{AllowedURLs: []string{c.TokenURL.Value}})
	require.ErrorIs(t, err, ErrNeedsCloudSDK)
}

// TestAllowedURLsHandMadeConfig: a Config the caller fills in
// (no TokenURL from a file) is not checked.
func TestAllowedURLsHandMadeConfig(t *testing.T) {
	t.Parallel()
	srv := ccServer(t)
	c := &Config{Source: SourceSpec{Kind: SourceClientCredentials, TokenURL: srv.TokenURL, ClientID: "app-1", ClientSecret: "s3cret-value", Scope: "kafka"}}
	src, err := c.NewSource(&BuildOptions{Getenv: noEnv})
	require.NoError(t, err)
	_ = src.Close()
	assert.False(t, errors.Is(err, ErrURLNotAllowed))
}
