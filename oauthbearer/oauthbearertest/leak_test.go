package oauthbearertest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestEveryServerBindsLoopbackAndLeaksNothing starts every emulator with
// its test constructor inside a subtest, checks that it listens on
// 127.0.0.1 and answers, and, once the subtest's cleanup has closed them
// all, that no goroutine of theirs is left.
func TestEveryServerBindsLoopbackAndLeaksNothing(t *testing.T) { // not parallel: goleak
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("start all", func(t *testing.T) {
		iss := oauthbearertest.NewIssuer(t, nil)
		broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, NumBrokers: 2})
		urls := map[string]struct {
			url    string
			client *http.Client
		}{
			"issuer":             {iss.JWKSURL(), iss.Client()},
			"imds":               {oauthbearertest.NewIMDS(t, &oauthbearertest.IMDSOptions{Signer: iss}).URL, nil},
			"entra":              {oauthbearertest.NewEntra(t, &oauthbearertest.EntraOptions{Signer: iss}).URL, nil},
			"sts":                {oauthbearertest.NewSTS(t, nil).URL, nil},
			"confluent sts":      {oauthbearertest.NewConfluentSTS(t, &oauthbearertest.ConfluentSTSOptions{Providers: []oauthbearertest.ConfluentIdentityProvider{{Issuer: iss, Pools: []string{"pool-a"}}}}).URL, nil},
			"client credentials": {oauthbearertest.NewClientCredentialsServer(t, &oauthbearertest.ClientCredentialsServerOptions{Issuer: iss, Clients: map[string]oauthbearertest.OAuthClient{"c": {Secret: "s"}}}).URL, nil},
			"schema registry":    {oauthbearertest.NewSchemaRegistry(t, &oauthbearertest.SchemaRegistryOptions{Issuer: iss}).URL, nil},
		}
		for name, u := range urls {
			assert.Contains(t, u.url, "://127.0.0.1:", name)
		}
		resp, err := iss.Client().Get(urls["issuer"].url)
		require.NoError(t, err)
		resp.Body.Close()
		for _, a := range broker.Addrs() {
			assert.True(t, strings.HasPrefix(a, "127.0.0.1:"), a)
		}
	})
}
