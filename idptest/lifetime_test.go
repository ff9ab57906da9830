package idptest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLifetimeMeansTheSameInEveryEmulator: every emulator with a Lifetime
// option issues tokens whose exp - iat is its default for zero and the
// Lifetime as given otherwise, so a negative Lifetime yields tokens
// already expired by that much. Fails before tokenLifetime: OAuthServer
// read a negative Lifetime as its 1h default, and ConfluentSTS refused
// one.
func TestLifetimeMeansTheSameInEveryEmulator(t *testing.T) {
	t.Parallel()
	const sub = "system:serviceaccount:ns:sa"
	emulators := map[string]struct {
		def   time.Duration
		token func(t *testing.T, lifetime time.Duration) string
	}{
		"Entra": {time.Hour, func(t *testing.T, lifetime time.Duration) string {
			k8s := NewIssuer(t, nil)
			e := NewEntra(t, &EntraOptions{Lifetime: lifetime, Apps: []EntraApp{{TenantID: entraTestTenant, ClientID: entraTestClient,
				Federated: []FederatedCredential{{Issuer: k8s.IssuerURL, Subject: sub}}}}})
			return (&entraTestBench{entra: e, k8s: k8s}).token(t, "api://kafka/.default")
		}},
		"IMDS": {24 * time.Hour, func(t *testing.T, lifetime time.Duration) string {
			return imdsTestToken(t, NewIMDS(t, &IMDSOptions{Lifetime: lifetime}), "api://kafka")["access_token"].(string)
		}},
		"GCE": {time.Hour, func(t *testing.T, lifetime time.Duration) string {
			g := NewGCE(t, &GCEOptions{Lifetime: lifetime})
			status, tok := gceGet(t, g.Client(), g.URL+gceIdentityPath+"?audience=kafka", true)
			require.Equal(t, http.StatusOK, status, tok)
			return tok
		}},
		"OAuthServer": {time.Hour, func(t *testing.T, lifetime time.Duration) string {
			s := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil), Lifetime: lifetime, Clients: map[string]OAuthClient{"app": {Secret: "s3cret"}}})
			status, body := confluentPost(t, s.Client(), s.TokenURL, "application/x-www-form-urlencoded", url.Values{
				"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s3cret"}})
			require.Equal(t, http.StatusOK, status, body)
			return body["access_token"].(string)
		}},
		"ConfluentSTS": {900 * time.Second, func(t *testing.T, lifetime time.Duration) string {
			idp := NewIssuer(t, nil)
			s := NewConfluentSTS(t, &ConfluentSTSOptions{Lifetime: lifetime, Providers: []ConfluentIdentityProvider{{Issuer: idp, Pools: []string{"pool-a"}}}})
			status, body := confluentPost(t, s.Client(), s.TokenURL, "application/x-www-form-urlencoded", url.Values{
				"grant_type": {confluentGrantTokenExchange}, "subject_token": {idp.Mint(sub, "kafka", time.Hour, nil)},
				"identity_pool_id": {"pool-a"}, "subject_token_type": {confluentTokenTypeJWT}, "requested_token_type": {confluentTokenTypeAccess}})
			require.Equal(t, http.StatusOK, status, body)
			return body["access_token"].(string)
		}},
	}
	for name, e := range emulators {
		for _, lifetime := range []time.Duration{0, -time.Hour, 2 * time.Minute} {
			t.Run(name+"/"+lifetime.String(), func(t *testing.T) {
				t.Parallel()
				want := lifetime
				if want == 0 {
					want = e.def
				}
				c := entraTestClaims(t, e.token(t, lifetime))
				iat, err := c.GetIssuedAt()
				require.NoError(t, err)
				exp, err := c.GetExpirationTime()
				require.NoError(t, err)
				require.NotNil(t, iat)
				require.NotNil(t, exp)
				assert.Equal(t, want, exp.Sub(iat.Time))
			})
		}
	}
}
