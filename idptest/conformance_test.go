package idptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file pin rows of docs/conformance.md where the
// emulators used to differ from the service they stand in for.

// TestClientCredentialsRepliesAreNotCacheable: RFC 6749 section 5.1 requires
// Cache-Control: no-store and Pragma: no-cache on token endpoint replies.
// Fails before the audit: Pragma was missing.
func TestClientCredentialsRepliesAreNotCacheable(t *testing.T) {
	t.Parallel()
	srv := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil),
		Clients: map[string]OAuthClient{"c1": {Secret: "s1"}}})
	for name, secret := range map[string]string{"granted": "s1", "refused": "wrong"} {
		t.Run(name, func(t *testing.T) {
			resp, err := srv.Client().PostForm(srv.TokenURL, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {"c1"}, "client_secret": {secret}})
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
		})
	}
}

// TestClientCredentialsAssertionNotBefore: RFC 7523 section 3 item 5, a
// client assertion with an nbf in the future is refused. Fails before the
// audit: nbf was not checked.
func TestClientCredentialsAssertionNotBefore(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srv := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil),
		Clients: map[string]OAuthClient{"c1": {PublicKey: &key.PublicKey}}})
	post := func(nbf time.Time) int {
		a, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "c1", "sub": "c1", "aud": srv.TokenURL,
			"exp": time.Now().Add(2 * time.Hour).Unix(), "nbf": nbf.Unix(), "jti": randomB64URL(16)}).SignedString(key)
		require.NoError(t, err)
		resp, err := srv.Client().PostForm(srv.TokenURL, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {clientAssertionType}, "client_assertion": {a}})
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, post(time.Now().Add(time.Hour)))
	assert.Equal(t, http.StatusOK, post(time.Now()))
}

// TestConfluentSTSTokenShape: the exchanged token carries the claims of
// Confluent's published example (organization, identity provider and
// external subject in externalIdentityId). Fails before the audit:
// externalIdentityId was crn://confluent.cloud/identity=<sub> and the
// organization claims were missing.
func TestConfluentSTSTokenShape(t *testing.T) {
	t.Parallel()
	idp := NewIssuer(t, nil)
	sts := NewConfluentSTS(t, &ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{Issuer: idp, Pools: []string{"pool-a1"}}}})
	status, body := confluentPost(t, sts.Client(), sts.TokenURL, "application/x-www-form-urlencoded", url.Values{
		"grant_type": {confluentGrantTokenExchange}, "subject_token": {idp.Mint("wl-1", "app", time.Hour, nil)},
		"identity_pool_id": {"pool-a1"}, "subject_token_type": {confluentTokenTypeJWT}, "requested_token_type": {confluentTokenTypeAccess},
	})
	require.Equal(t, http.StatusOK, status, body)
	c := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(body["access_token"].(string), c)
	require.NoError(t, err)
	assert.Equal(t, "Confluent", c["iss"])
	assert.Equal(t, "CONTROL_PLANE", c["aud"])
	assert.Equal(t, "pool-a1", c["sub"])
	assert.Equal(t, "pool-a1", c["userResourceId"])
	for _, k := range []string{"organizationId", "orgResourceId", "userId", "jti", "iat", "exp", "scope", "may_act"} {
		assert.Contains(t, c, k)
	}
	ext, _ := c["externalIdentityId"].(string)
	assert.True(t, strings.HasPrefix(ext, "crn://confluent.cloud/organization="+confluentEmuOrg+"/identity-provider=op-1/identity=wl-1"), ext)
}

// TestSTSTokenClaimsMatchIAM: GetWebIdentityToken's JWT carries the claims
// of IAM's published sample (iss, aud, sub, iat, exp, jti and the
// https://sts.amazonaws.com/ namespace), no nbf; the namespace holds
// principal_id, the role's ARN, as the service model's documentation of
// GetWebIdentityToken says (newer than IAM's sample). Failed before the
// audit: the emulator added nbf; failed before the model re-check: the
// namespace lacked principal_id.
func TestSTSTokenClaimsMatchIAM(t *testing.T) {
	t.Parallel()
	s := NewSTS(t, nil)
	now := time.Now()
	tok := s.mint(stsRequest{Audiences: []string{"kafka"}, SigningAlgorithm: "ES384", Region: "us-west-2",
		Tags: map[string]string{"team": "orders"}}, now, now.Add(5*time.Minute))
	c := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(tok, c)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"iss", "aud", "sub", "iat", "exp", "jti", "https://sts.amazonaws.com/"}, slices.Collect(maps.Keys(c)))
	ns, _ := c["https://sts.amazonaws.com/"].(map[string]any)
	assert.ElementsMatch(t, []string{"aws_account", "source_region", "principal_id", "request_tags"}, slices.Collect(maps.Keys(ns)))
	assert.Equal(t, s.RoleARN, ns["principal_id"])
	assert.Equal(t, "kafka", c["aud"], "one audience is a string")
}

// TestEntraTokenClaimsMatchReference: an app-only v2 token from IMDS
// carries the claims of a real one (docs/conformance.md quotes one): no
// idtyp, which Entra adds only as an optional claim. Fails before the
// audit: idtyp was "app".
func TestEntraTokenClaimsMatchReference(t *testing.T) {
	t.Parallel()
	m := NewIMDS(t, nil)
	c := entraTestClaims(t, imdsTestToken(t, m, entraTestAPI)["access_token"].(string))
	assert.NotContains(t, c, "idtyp")
	for _, k := range []string{"aud", "iss", "iat", "nbf", "exp", "azp", "azpacr", "oid", "rh", "sub", "tid", "uti", "ver"} {
		assert.Contains(t, c, k)
	}
	assert.Equal(t, c["iat"], c["nbf"])
}
