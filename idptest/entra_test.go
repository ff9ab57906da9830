package idptest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

const (
	entraTestTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraTestClient = "5e2f6a4c-1b7d-4c3e-9f8a-0a1b2c3d4e5f"
	entraTestAPI    = "0c6b7a2e-4f55-4d7b-9d7e-6a1f2b3c4d5e" // the API's application ID
)

func entraTestClaims(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(tok, c)
	require.NoError(t, err)
	return c
}

func getJSON(t *testing.T, c *http.Client, u string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func imdsTestToken(t *testing.T, m *IMDS, resource string) map[string]any {
	t.Helper()
	status, body := getJSON(t, m.Client(), "http://"+imdsAddress+imdsTokenPath+"?"+url.Values{
		"api-version": {"2018-02-01"}, "resource": {resource}}.Encode(), map[string]string{"Metadata": "true"})
	require.Equal(t, http.StatusOK, status, body)
	return body
}

// TestIMDSV2AudienceIsAppID: a v2 token requested for an App ID URI
// carries the API's application (client) ID in "aud" (Entra's access
// token claims reference: "in v2.0 tokens, this value is always the client
// ID of the API"); a v1 token carries the resource as requested. Fails
// before the AppIDs mapping: aud was "api://kafka-orders", so a broker
// configured with the URI passed here and fails in Azure.
func TestIMDSV2AudienceIsAppID(t *testing.T) {
	t.Parallel()
	m := NewIMDS(t, &IMDSOptions{AppIDs: map[string]string{"api://kafka-orders": entraTestAPI}})
	body := imdsTestToken(t, m, "api://kafka-orders")
	c := entraTestClaims(t, body["access_token"].(string))
	assert.Equal(t, entraTestAPI, c["aud"])
	assert.Equal(t, "2.0", c["ver"])
	assert.Equal(t, "api://kafka-orders", body["resource"], "the JSON reply echoes the resource as requested")

	// An unmapped URI still gets a GUID, the one AppID names.
	c = entraTestClaims(t, imdsTestToken(t, m, "api://kafka-payments")["access_token"].(string))
	assert.Equal(t, m.AppID("api://kafka-payments"), c["aud"])
	assert.True(t, isGUID(c["aud"].(string)), c["aud"])
	assert.NotEqual(t, entraTestAPI, c["aud"])
	// A GUID resource is its own app ID.
	c = entraTestClaims(t, imdsTestToken(t, m, entraTestAPI)["access_token"].(string))
	assert.Equal(t, entraTestAPI, c["aud"])

	v1 := NewIMDS(t, &IMDSOptions{V1Tokens: true, AppIDs: map[string]string{"api://kafka-orders": entraTestAPI}})
	c = entraTestClaims(t, imdsTestToken(t, v1, "api://kafka-orders")["access_token"].(string))
	assert.Equal(t, "api://kafka-orders", c["aud"], "a v1 token carries what was requested")
	assert.Equal(t, "1.0", c["ver"])
}

type entraTestBench struct {
	entra *Entra
	k8s   *Issuer
}

func newEntraTestBench(t *testing.T, v1 bool) *entraTestBench {
	t.Helper()
	k8s := NewIssuer(t, nil)
	e := NewEntra(t, &EntraOptions{
		V1Tokens: v1,
		AppIDs:   map[string]string{"api://kafka-orders": entraTestAPI},
		Apps: []EntraApp{{TenantID: entraTestTenant, ClientID: entraTestClient, Federated: []FederatedCredential{{
			Issuer: k8s.IssuerURL, Subject: "system:serviceaccount:ns:sa"}}}},
	})
	return &entraTestBench{entra: e, k8s: k8s}
}

func (b *entraTestBench) token(t *testing.T, scope string) string {
	t.Helper()
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {entraTestClient}, "scope": {scope},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {b.k8s.Mint("system:serviceaccount:ns:sa", entraTokenExchangeAudience, time.Hour, nil)},
	}
	resp, err := b.entra.Client().Post(b.entra.TokenURL(entraTestTenant), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	require.Equal(t, http.StatusOK, resp.StatusCode, m)
	return m["access_token"].(string)
}

// TestEntraV2AudienceIsAppID: see TestIMDSV2AudienceIsAppID. Fails before
// the AppIDs mapping: aud was the App ID URI.
func TestEntraV2AudienceIsAppID(t *testing.T) {
	t.Parallel()
	b := newEntraTestBench(t, false)
	c := entraTestClaims(t, b.token(t, "api://kafka-orders/.default"))
	assert.Equal(t, entraTestAPI, c["aud"])
	assert.Equal(t, "2.0", c["ver"])
	c = entraTestClaims(t, b.token(t, "api://other/.default"))
	assert.Equal(t, b.entra.AppID(entraTestTenant, "api://other"), c["aud"])
	assert.True(t, isGUID(c["aud"].(string)))

	v1 := newEntraTestBench(t, true)
	c = entraTestClaims(t, v1.token(t, "api://kafka-orders/.default"))
	assert.Equal(t, "api://kafka-orders", c["aud"], "a v1 token carries what was requested")
	assert.Equal(t, "https://sts.windows.net/"+entraTestTenant+"/", c["iss"])
}

// TestEntraDiscoveryNamesTokenIssuer: the tenant's OpenID discovery
// document names exactly the iss its v2 tokens carry, in the
// https://login.microsoftonline.com/<tenant>/v2.0 shape, and its jwks_uri
// verifies them, so a validator that follows discovery (as Confluent
// Cloud's identity-provider import does) accepts them. Fails before: the
// tokens carried the signer's URL, the document "<URL>/<tenant>/v2.0".
func TestEntraDiscoveryNamesTokenIssuer(t *testing.T) {
	t.Parallel()
	b := newEntraTestBench(t, false)
	status, doc := getJSON(t, b.entra.Client(), b.entra.URL+"/"+entraTestTenant+"/v2.0/.well-known/openid-configuration", nil)
	require.Equal(t, http.StatusOK, status, doc)
	tok := b.token(t, "api://kafka-orders/.default")
	c := entraTestClaims(t, tok)
	assert.Equal(t, doc["issuer"], c["iss"])
	assert.Equal(t, b.entra.URL+"/"+entraTestTenant+"/v2.0", c["iss"])
	assert.Equal(t, b.entra.IssuerURL(entraTestTenant), doc["issuer"])

	// The tenant segment in any case names the same issuer.
	_, upper := getJSON(t, b.entra.Client(), b.entra.URL+"/"+strings.ToUpper(entraTestTenant)+"/v2.0/.well-known/openid-configuration", nil)
	assert.Equal(t, doc["issuer"], upper["issuer"])

	jwks, _ := doc["jwks_uri"].(string)
	require.Equal(t, b.entra.JWKSURL(entraTestTenant), jwks)
	_, sub, err := jwtverify.New(jwks, b.entra.Client()).Verify(tok, jwtverify.Expect{
		Issuer: doc["issuer"].(string), Audience: entraTestAPI})
	require.NoError(t, err)
	assert.Equal(t, c["oid"], sub)
}
