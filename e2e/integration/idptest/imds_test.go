package idptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// imdsTestResource returns a resource no other test uses: azidentity's
// managed-identity token cache is process-global.
func imdsTestResource(t *testing.T) string {
	return "api://imds-test-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + t.Name()
}

func imdsCredential(t *testing.T, m *idptest.IMDS, id azidentity.ManagedIDKind) *azidentity.ManagedIdentityCredential {
	t.Helper()
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: id,
		ClientOptions: azcore.ClientOptions{
			Transport: m.Client(),
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond},
		},
	})
	require.NoError(t, err)
	return cred
}

func TestIMDSServesManagedIdentityCredential(t *testing.T) {
	t.Parallel()
	user := idptest.ManagedIdentity{
		ClientID:   "11111111-1111-4111-8111-111111111111",
		ObjectID:   "22222222-2222-4222-8222-222222222222",
		ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kafka",
	}
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{UserAssigned: []idptest.ManagedIdentity{user}})
	sys := m.SystemAssigned
	tests := map[string]struct {
		id   azidentity.ManagedIDKind
		want idptest.ManagedIdentity
	}{
		"system assigned":        {nil, sys},
		"user by client ID":      {azidentity.ClientID(user.ClientID), user},
		"user by object ID":      {azidentity.ObjectID(user.ObjectID), user},
		"user by resource ID":    {azidentity.ResourceID(user.ResourceID), user},
		"client ID in uppercase": {azidentity.ClientID(strings.ToUpper(user.ClientID)), user},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resource := imdsTestResource(t)
			tok, err := imdsCredential(t, m, tc.id).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
			require.NoError(t, err)
			claims, sub, err := jwtverify.New(m.Signer.JWKSURL, nil).Verify(tok.Token, jwtverify.Expect{
				Issuer: m.Signer.IssuerURL, Audience: m.AppID(resource)}) // v2: the API's application ID
			require.NoError(t, err)
			assert.Equal(t, tc.want.ObjectID, sub)
			assert.Equal(t, "2.0", claims["ver"])
			assert.Equal(t, tc.want.ClientID, claims["azp"])
			assert.Equal(t, m.TenantID, claims["tid"])
			assert.WithinDuration(t, time.Now().Add(24*time.Hour), tok.ExpiresOn, time.Minute)
		})
	}
}

func TestIMDSUnknownIdentity(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{DisableSystemAssigned: true})
	for name, id := range map[string]azidentity.ManagedIDKind{
		"unknown client ID":  azidentity.ClientID("33333333-3333-4333-8333-333333333333"),
		"no system identity": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := imdsCredential(t, m, id).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{imdsTestResource(t)}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Identity not found")
		})
	}
	assert.Empty(t, m.Issued(), "no token may be issued")
}

func TestIMDSRejectsMalformedRequests(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{UserAssigned: []idptest.ManagedIdentity{{ClientID: "c1", ObjectID: "o1"}}})
	tests := map[string]struct {
		method, query string
		header        map[string]string
		status        int
		desc          string
	}{
		"no metadata header":  {"GET", "api-version=2018-02-01&resource=x", nil, 400, "Required metadata header not specified"},
		"metadata false":      {"GET", "api-version=2018-02-01&resource=x", map[string]string{"Metadata": "false"}, 400, "Required metadata header not specified"},
		"no api-version":      {"GET", "resource=x", map[string]string{"Metadata": "true"}, 400, "Required query variable 'api-version' is missing"},
		"unknown api-version": {"GET", "api-version=2099-01-01&resource=x", map[string]string{"Metadata": "true"}, 400, "Invalid value for query variable 'api-version'"},
		"no resource":         {"GET", "api-version=2018-02-01", map[string]string{"Metadata": "true"}, 400, "Required audience parameter not specified"},
		"two selectors":       {"GET", "api-version=2018-02-01&resource=x&client_id=c1&object_id=o1", map[string]string{"Metadata": "true"}, 400, "Multiple identities specified; use only one of client_id, object_id or msi_res_id"},
		"unknown object":      {"GET", "api-version=2018-02-01&resource=x&object_id=nope", map[string]string{"Metadata": "true"}, 400, "Identity not found"},
		"proxied":             {"GET", "api-version=2018-02-01&resource=x", map[string]string{"Metadata": "true", "X-Forwarded-For": "10.0.0.1"}, 400, "Request contains X-Forwarded-For header"},
		"POST":                {"POST", "api-version=2018-02-01&resource=x", map[string]string{"Metadata": "true"}, 405, "The requested method is not supported; use GET"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, "http://169.254.169.254/metadata/identity/oauth2/token?"+tc.query, nil)
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := m.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			var body map[string]string
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			assert.Equal(t, map[string]string{"error": "invalid_request", "error_description": tc.desc}, body)
		})
	}
	assert.Empty(t, m.Issued(), "no token may be issued")
}

func imdsGet(t *testing.T, m *idptest.IMDS, query string) map[string]string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://169.254.169.254/metadata/identity/oauth2/token?"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Metadata", "true")
	resp, err := m.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, string(b))
	var out map[string]string // every IMDS value is a JSON string
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestIMDSTokenShapes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts   idptest.IMDSOptions
		check  func(t *testing.T, m *idptest.IMDS, c jwt.MapClaims)
		expSec string
	}{
		"v2 default": {check: func(t *testing.T, m *idptest.IMDS, c jwt.MapClaims) {
			assert.Equal(t, "2.0", c["ver"])
			assert.Equal(t, m.Signer.IssuerURL, c["iss"])
			assert.NotContains(t, c, "appid")
		}, expSec: "86400"},
		"v1": {opts: idptest.IMDSOptions{V1Tokens: true, TenantID: "tid-1"}, check: func(t *testing.T, m *idptest.IMDS, c jwt.MapClaims) {
			assert.Equal(t, "1.0", c["ver"])
			assert.Equal(t, "https://sts.windows.net/tid-1/", c["iss"])
			assert.Equal(t, m.SystemAssigned.ClientID, c["appid"])
			assert.NotContains(t, c, "azp")
		}, expSec: "86400"},
		"expired": {opts: idptest.IMDSOptions{Lifetime: -time.Hour}, check: func(t *testing.T, _ *idptest.IMDS, c jwt.MapClaims) {
			exp, err := c.GetExpirationTime()
			require.NoError(t, err)
			assert.True(t, exp.Before(time.Now()))
		}, expSec: "-3600"},
		"no exp": {opts: idptest.IMDSOptions{OmitExpiry: true, Lifetime: time.Hour}, check: func(t *testing.T, _ *idptest.IMDS, c jwt.MapClaims) {
			assert.NotContains(t, c, "exp")
		}, expSec: "3600"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := idptest.NewIMDS(t, &tc.opts)
			out := imdsGet(t, m, "api-version=2018-02-01&resource=api%3A%2F%2Fkafka")
			for _, k := range []string{"access_token", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type", "client_id"} {
				assert.NotEmpty(t, out[k], k)
			}
			assert.Equal(t, tc.expSec, out["expires_in"])
			assert.Equal(t, "api://kafka", out["resource"])
			assert.Equal(t, "Bearer", out["token_type"])
			assert.Equal(t, m.SystemAssigned.ClientID, out["client_id"])
			c := jwt.MapClaims{}
			_, _, err := jwt.NewParser().ParseUnverified(out["access_token"], c)
			require.NoError(t, err)
			for _, k := range []string{"aud", "oid", "sub", "tid", "iat", "ver", "iss"} {
				assert.Contains(t, c, k)
			}
			// A v1 token carries the resource as requested, a v2 token the
			// API's application ID.
			wantAud := m.AppID("api://kafka")
			if tc.opts.V1Tokens {
				wantAud = "api://kafka"
			}
			assert.Equal(t, wantAud, c["aud"])
			tc.check(t, m, c)
		})
	}
}

func TestIMDSRetriedFaultsThenSuccess(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	m.FailNext(2, idptest.Fault{Status: http.StatusGone})
	m.FailNext(1, idptest.Fault{Status: http.StatusTooManyRequests})
	tok, err := imdsCredential(t, m, nil).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{imdsTestResource(t)}})
	require.NoError(t, err)
	assert.NotEmpty(t, tok.Token)
	assert.Len(t, m.Requests(), 4)

	// Past azidentity's retries the error carries IMDS's status.
	m.FailNext(10, idptest.Fault{Status: http.StatusGone})
	_, err = imdsCredential(t, m, nil).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{imdsTestResource(t) + "-2"}})
	var afe *azidentity.AuthenticationFailedError
	require.True(t, errors.As(err, &afe), "%v", err)
	require.NotNil(t, afe.RawResponse)
	assert.Equal(t, http.StatusGone, afe.RawResponse.StatusCode)
}
