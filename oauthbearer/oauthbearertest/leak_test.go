package oauthbearertest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestEveryServerBindsLoopbackAndLeaksNothing starts every emulator,
// checks that it listens on 127.0.0.1 and answers, and, once every one is
// closed, that no goroutine of theirs is left.
func TestEveryServerBindsLoopbackAndLeaksNothing(t *testing.T) { // not parallel: goleak
	defer leakcheck.VerifyNone(t, leakcheck.Current())
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, NumBrokers: 2})
	defer broker.Close()
	servers := map[string]interface {
		Close()
	}{}
	urls := map[string]string{"issuer": iss.JWKSURL()}
	add := func(name, url string, s interface{ Close() }) {
		servers[name], urls[name] = s, url
	}
	imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{Signer: iss})
	add("imds", imds.URL, imds)
	entra := oauthbearertest.NewEntra(&oauthbearertest.EntraOptions{Signer: iss})
	add("entra", entra.URL, entra)
	sts := oauthbearertest.NewSTS(nil)
	add("sts", sts.URL, sts)
	csts := oauthbearertest.NewConfluentSTS(&oauthbearertest.ConfluentSTSOptions{Providers: []oauthbearertest.ConfluentIdentityProvider{{Issuer: iss, Pools: []string{"pool-a"}}}})
	add("confluent sts", csts.URL, csts)
	idp := oauthbearertest.NewOAuthServer(&oauthbearertest.OAuthServerOptions{Issuer: iss, Clients: map[string]oauthbearertest.OAuthClient{"c": {Secret: "s"}}})
	add("oauth", idp.URL, idp)
	reg := oauthbearertest.NewSchemaRegistry(&oauthbearertest.SchemaRegistryOptions{Issuer: iss})
	add("schema registry", reg.URL, reg)
	for name, u := range urls {
		assert.Contains(t, u, "://127.0.0.1:", name)
	}
	resp, err := iss.Client().Get(urls["issuer"])
	require.NoError(t, err)
	resp.Body.Close()
	for _, a := range broker.Addrs() {
		assert.True(t, strings.HasPrefix(a, "127.0.0.1:"), a)
	}
	for _, s := range servers {
		s.Close()
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// TestNewPanicsOnBadOptions: constructors panic as httptest.NewServer
// does, with a message naming the setting (no testing.TB to fail).
func TestNewPanicsOnBadOptions(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, `oauthbearertest: IssuerOptions.Algorithm is "HS256"; use RS256, ES256 or ES384`, func() {
		oauthbearertest.NewIssuer(&oauthbearertest.IssuerOptions{Algorithm: "HS256"})
	})
	assert.Panics(t, func() { oauthbearertest.NewBroker(nil) })
}
