package idptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// entraExchangeAudience is the audience Entra requires of a federated
// credential's assertion.
const entraExchangeAudience = "api://AzureADTokenExchange"

const (
	entraTestTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraTestClient = "0a1b2c3d-0000-4000-8000-00000000c11e"
	entraTestSA     = "system:serviceaccount:kafka:producer"
)

type entraBench struct {
	k8s   *idptest.Issuer
	entra *idptest.Entra
	file  string
}

func newEntraBench(t *testing.T, opts *idptest.EntraOptions) *entraBench {
	t.Helper()
	k8s := idptest.NewIssuer(t, nil)
	var o idptest.EntraOptions
	if opts != nil {
		o = *opts
	}
	o.Apps = append(o.Apps, idptest.EntraApp{
		TenantID: entraTestTenant, ClientID: entraTestClient, ObjectID: "5e1f0000-0000-4000-8000-0000000000b1",
		Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: entraTestSA}},
	})
	return &entraBench{k8s: k8s, entra: idptest.NewEntra(t, &o), file: filepath.Join(t.TempDir(), "azure-identity-token")}
}

// writeAssertion writes a service-account token to the federated token
// file and returns it.
func (b *entraBench) writeAssertion(t *testing.T, sub, aud string, ttl time.Duration) string {
	t.Helper()
	tok := b.k8s.Mint(sub, aud, ttl, nil)
	require.NoError(t, os.WriteFile(b.file, []byte(tok), 0o600))
	return tok
}

func (b *entraBench) credential(t *testing.T, tenant, client string) *azidentity.WorkloadIdentityCredential {
	t.Helper()
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientID: client, TenantID: tenant, TokenFilePath: b.file, DisableInstanceDiscovery: true,
		ClientOptions: azcore.ClientOptions{
			Transport: b.entra.Client(),
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: b.entra.URL},
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
	})
	require.NoError(t, err)
	return cred
}

// tokenPath is the URL path of tenant's token endpoint.
func (b *entraBench) tokenPath(tenant string) string {
	return strings.TrimPrefix(b.entra.TokenURL(tenant), b.entra.URL)
}

func TestEntraServesWorkloadIdentityCredential(t *testing.T) {
	t.Parallel()
	b := newEntraBench(t, nil)
	assertion := b.writeAssertion(t, entraTestSA, entraExchangeAudience, time.Hour)
	tok, err := b.credential(t, entraTestTenant, entraTestClient).GetToken(context.Background(),
		policy.TokenRequestOptions{Scopes: []string{"api://kafka/.default"}})
	require.NoError(t, err)
	// v2: iss is the tenant's discovery issuer, aud the API's application ID.
	claims, sub, err := jwtverify.New(b.entra.Signer.JWKSURL, nil).Verify(tok.Token, jwtverify.Expect{
		Issuer: b.entra.IssuerURL(entraTestTenant), Audience: b.entra.AppID(entraTestTenant, "api://kafka")})
	require.NoError(t, err)
	assert.Equal(t, "5e1f0000-0000-4000-8000-0000000000b1", sub)
	assert.Equal(t, "2.0", claims["ver"])
	assert.Equal(t, entraTestClient, claims["azp"])
	assert.Equal(t, entraTestTenant, claims["tid"])
	var paths []string
	for _, r := range b.entra.Requests() {
		paths = append(paths, r.Path)
	}
	assert.Equal(t, []string{"/" + entraTestTenant + "/v2.0/.well-known/openid-configuration", b.tokenPath(entraTestTenant)}, paths)
	token := b.entra.Requests()[1]
	assert.Equal(t, assertion, token.Assertion)
	assert.Equal(t, tok.Token, token.Token)
}

// entraErrorOf extracts Entra's JSON error body from an azidentity error.
func entraErrorOf(t *testing.T, err error) (status int, body map[string]any) {
	t.Helper()
	var afe *azidentity.AuthenticationFailedError
	require.True(t, errors.As(err, &afe), "not an AuthenticationFailedError: %v", err)
	require.NotNil(t, afe.RawResponse, "%v", err)
	raw, rerr := io.ReadAll(afe.RawResponse.Body)
	require.NoError(t, rerr)
	require.NoError(t, json.Unmarshal(raw, &body), string(raw))
	return afe.RawResponse.StatusCode, body
}

func TestEntraRejectsBadAssertionsAndClients(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		tenant, client, scope string
		sub, aud              string
		ttl                   time.Duration
		forged, otherIssuer   bool
		status                int
		oauthErr              string
		code                  float64
	}{
		"expired assertion":  {sub: entraTestSA, ttl: -10 * time.Minute, status: 400, oauthErr: "invalid_client", code: 700024},
		"wrong subject":      {sub: "system:serviceaccount:kafka:other", status: 400, oauthErr: "invalid_request", code: 700213},
		"wrong audience":     {sub: entraTestSA, aud: "api://other", status: 400, oauthErr: "invalid_request", code: 70021},
		"unknown issuer":     {sub: entraTestSA, otherIssuer: true, status: 400, oauthErr: "invalid_request", code: 700211},
		"forged signature":   {sub: entraTestSA, forged: true, status: 401, oauthErr: "invalid_client", code: 700027},
		"unknown client":     {sub: entraTestSA, client: "99999999-0000-4000-8000-000000000000", status: 400, oauthErr: "unauthorized_client", code: 700016},
		"scope not .default": {sub: entraTestSA, scope: "api://kafka/read", status: 400, oauthErr: "invalid_scope", code: 1002012},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newEntraBench(t, nil)
			aud := tc.aud
			if aud == "" {
				aud = entraExchangeAudience
			}
			ttl := tc.ttl
			if ttl == 0 {
				ttl = time.Hour
			}
			switch {
			case tc.forged:
				// A second issuer signing under the first one's key ID: a
				// signature the first one's JWKS names but does not verify.
				forger := idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: kafkatest.KeyID(t, b.k8s.Mint(tc.sub, aud, ttl, nil))})
				tok := forger.Sign(map[string]any{"iss": b.k8s.IssuerURL, "sub": tc.sub, "aud": aud, "exp": time.Now().Add(ttl).Unix()})
				require.NoError(t, os.WriteFile(b.file, []byte(tok), 0o600))
			case tc.otherIssuer:
				other := idptest.NewIssuer(t, nil)
				require.NoError(t, os.WriteFile(b.file, []byte(other.Mint(tc.sub, aud, ttl, nil)), 0o600))
			default:
				b.writeAssertion(t, tc.sub, aud, ttl)
			}
			client, scope := tc.client, tc.scope
			if client == "" {
				client = entraTestClient
			}
			if scope == "" {
				scope = "api://kafka/.default"
			}
			_, err := b.credential(t, entraTestTenant, client).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
			require.Error(t, err)
			status, body := entraErrorOf(t, err)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.oauthErr, body["error"])
			assert.Equal(t, []any{tc.code}, body["error_codes"])
			desc, _ := body["error_description"].(string)
			assert.True(t, strings.HasPrefix(desc, "AADSTS"), desc)
			for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
				assert.NotEmpty(t, body[k], k)
			}
			assert.Empty(t, b.entra.Issued(), "no token may be issued")
		})
	}
}

func TestEntraUnknownTenant(t *testing.T) {
	t.Parallel()
	b := newEntraBench(t, nil)
	b.writeAssertion(t, entraTestSA, entraExchangeAudience, time.Hour)
	_, err := b.credential(t, "00000000-dead-4000-8000-000000000000", entraTestClient).GetToken(context.Background(),
		policy.TokenRequestOptions{Scopes: []string{"api://kafka/.default"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AADSTS90002")
	assert.Empty(t, b.entra.Issued(), "no token may be issued")
}

func TestEntraRejectsMalformedTokenRequests(t *testing.T) {
	t.Parallel()
	b := newEntraBench(t, nil)
	good := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {entraTestClient},
		"scope":                 {"api://kafka/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {b.k8s.Mint(entraTestSA, entraExchangeAudience, time.Hour, nil)},
	}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := map[string]struct {
		method string
		form   url.Values
		status int
		err    string
		code   float64
	}{
		"valid":              {form: good, status: 200},
		"GET":                {method: "GET", form: good, status: 405, err: "invalid_request", code: 900561},
		"no grant_type":      {form: with("grant_type", ""), status: 400, err: "invalid_request", code: 900144},
		"password grant":     {form: with("grant_type", "password"), status: 400, err: "unsupported_grant_type", code: 70003},
		"no scope":           {form: with("scope", ""), status: 400, err: "invalid_request", code: 900144},
		"two resources":      {form: with("scope", "api://a/.default api://b/.default"), status: 400, err: "invalid_scope", code: 1002012},
		"no assertion":       {form: with("client_assertion", ""), status: 401, err: "invalid_client", code: 7000218},
		"bad assertion type": {form: with("client_assertion_type", "urn:x"), status: 400, err: "invalid_request", code: 700023},
		"garbage assertion":  {form: with("client_assertion", "not.a.jwt"), status: 400, err: "invalid_request", code: 50027},
		"client secret":      {form: with("client_secret", "s3cret"), status: 401, err: "invalid_client", code: 7000215},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = "POST"
			}
			req, err := http.NewRequest(method, b.entra.TokenURL(entraTestTenant), strings.NewReader(tc.form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.entra.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			if tc.status == 200 {
				assert.Equal(t, "Bearer", body["token_type"])
				assert.NotEmpty(t, body["access_token"])
				assert.EqualValues(t, 3600, body["expires_in"])
				return
			}
			assert.Equal(t, tc.err, body["error"])
			assert.Equal(t, []any{tc.code}, body["error_codes"])
		})
	}
}

func TestEntraV1Tokens(t *testing.T) {
	t.Parallel()
	b := newEntraBench(t, &idptest.EntraOptions{V1Tokens: true, Lifetime: 10 * time.Minute})
	b.writeAssertion(t, entraTestSA, entraExchangeAudience, time.Hour)
	tok, err := b.credential(t, entraTestTenant, entraTestClient).GetToken(context.Background(),
		policy.TokenRequestOptions{Scopes: []string{"api://kafka/.default"}})
	require.NoError(t, err)
	claims, _, err := jwtverify.New(b.entra.Signer.JWKSURL, nil).Verify(tok.Token, jwtverify.Expect{
		Issuer: "https://sts.windows.net/" + entraTestTenant + "/", Audience: "api://kafka"})
	require.NoError(t, err)
	assert.Equal(t, "1.0", claims["ver"])
	assert.Equal(t, entraTestClient, claims["appid"])
	assert.WithinDuration(t, time.Now().Add(10*time.Minute), tok.ExpiresOn, time.Minute)
}
