package idptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func confluentPost(t *testing.T, c *http.Client, u, ctype string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func TestConfluentSTSStrict(t *testing.T) {
	t.Parallel()
	idp := NewIssuer(t, nil)
	sts := NewConfluentSTS(t, &ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{
		Issuer: idp, ExpectedAudience: "app", Pools: []string{"pool-a1"},
		Filter: func(c map[string]any) bool { return c["sub"] != "blocked" },
	}}})
	good := func() url.Values {
		return url.Values{
			"grant_type":           {confluentGrantTokenExchange},
			"subject_token":        {idp.Mint("wl", "app", time.Hour, nil)},
			"identity_pool_id":     {"pool-a1"},
			"subject_token_type":   {confluentTokenTypeJWT},
			"requested_token_type": {confluentTokenTypeAccess},
		}
	}
	with := func(k, v string) url.Values { f := good(); f.Set(k, v); return f }
	// A second issuer whose key has the first one's kid forges a
	// signature.
	forger := NewIssuer(t, &IssuerOptions{KeyID: idp.current().kid})
	without := func(k string) url.Values { f := good(); f.Del(k); return f }
	tests := map[string]struct {
		ctype  string
		form   url.Values
		status int
		code   string
	}{
		"ok":                   {"application/x-www-form-urlencoded", good(), 200, ""},
		"json body":            {"application/json", good(), 400, "invalid_request"},
		"missing pool":         {"application/x-www-form-urlencoded", without("identity_pool_id"), 400, "invalid_request"},
		"missing subject type": {"application/x-www-form-urlencoded", without("subject_token_type"), 400, "invalid_request"},
		"wrong grant":          {"application/x-www-form-urlencoded", with("grant_type", "client_credentials"), 400, "unsupported_grant_type"},
		"wrong requested type": {"application/x-www-form-urlencoded", with("requested_token_type", "urn:ietf:params:oauth:token-type:id_token"), 400, "invalid_request"},
		"unknown pool":         {"application/x-www-form-urlencoded", with("identity_pool_id", "pool-zz"), 400, "invalid_request"},
		"expired subject":      {"application/x-www-form-urlencoded", with("subject_token", idp.Mint("wl", "app", -time.Hour, nil)), 400, "invalid_grant"},
		"forged subject":       {"application/x-www-form-urlencoded", with("subject_token", forger.Sign(map[string]any{"iss": idp.IssuerURL, "sub": "x", "aud": "app", "exp": time.Now().Add(time.Hour).Unix()})), 400, "invalid_grant"},
		// Confluent documents 400/429/500 for the exchange; these were
		// 401 before the conformance audit.
		"filtered out":   {"application/x-www-form-urlencoded", with("subject_token", idp.Mint("blocked", "app", time.Hour, nil)), 400, "invalid_grant"},
		"bad expires_in": {"application/x-www-form-urlencoded", with("expires_in", "5"), 400, "invalid_request"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, body := confluentPost(t, sts.Client(), sts.TokenURL, tc.ctype, tc.form)
			assert.Equal(t, tc.status, status, body)
			if tc.code == "" {
				assert.Equal(t, "Bearer", body["token_type"])
				assert.Equal(t, confluentTokenTypeAccess, body["issued_token_type"])
				assert.EqualValues(t, 900, body["expires_in"])
				assert.NotEmpty(t, body["access_token"])
				return
			}
			assert.Equal(t, tc.code, body["error"])
			assert.NotEmpty(t, body["error_description"])
		})
	}
	resp, err := sts.Client().Get(sts.TokenURL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// fakeTB records what a constructor passes to Fatalf.
type fakeTB struct {
	fatal    string
	cleanups []func()
}

func (*fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func TestConfluentSTSOptions(t *testing.T) {
	t.Parallel()
	idp := NewIssuer(t, nil)
	for _, tc := range []struct {
		opts *ConfluentSTSOptions
		want string
	}{
		{nil, "Providers is empty"},
		{&ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{Issuer: idp}}}, "Pools is empty"},
		{&ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{Issuer: idp, Pools: []string{"pool-a"}}, {Issuer: idp, Pools: []string{"pool-a"}}}}, "listed twice"},
	} {
		var tb fakeTB
		assert.Nil(t, NewConfluentSTS(&tb, tc.opts))
		assert.Contains(t, tb.fatal, tc.want)
		assert.True(t, strings.HasPrefix(tb.fatal, "idptest: "), tb.fatal)
		assert.Empty(t, tb.cleanups, "nothing started, nothing to clean up")
	}
}

// TestConstructorsFatalOnBadOptions: every constructor that validates
// its options reports through t.Fatalf, naming the option, and returns
// nil having started nothing.
func TestConstructorsFatalOnBadOptions(t *testing.T) {
	t.Parallel()
	iss := NewIssuer(t, nil)
	for name, tc := range map[string]struct {
		start func(TB) bool // reports whether it returned nil
		want  string
	}{
		"issuer": {func(tb TB) bool { return NewIssuer(tb, &IssuerOptions{Algorithm: "HS256"}) == nil }, "IssuerOptions.Algorithm"},
		"entra": {func(tb TB) bool {
			return NewEntra(tb, &EntraOptions{Apps: []EntraApp{{TenantID: "t"}}}) == nil
		}, "TenantID and ClientID"},
		"sts":             {func(tb TB) bool { return NewSTS(tb, &STSOptions{RoleARN: "arn:aws:iam::1:user/x"}) == nil }, "STSOptions.RoleARN"},
		"oauth no issuer": {func(tb TB) bool { return NewOAuthServer(tb, nil) == nil }, "OAuthServerOptions.Signer"},
		"oauth no clients": {func(tb TB) bool {
			return NewOAuthServer(tb, &OAuthServerOptions{Signer: iss}) == nil
		}, "OAuthServerOptions.Clients"},
		"schema registry": {func(tb TB) bool { return NewSchemaRegistry(tb, nil) == nil }, "SchemaRegistryOptions.Issuer"},
	} {
		t.Run(name, func(t *testing.T) {
			var tb fakeTB
			assert.True(t, tc.start(&tb))
			assert.Contains(t, tb.fatal, tc.want)
			assert.Empty(t, tb.cleanups)
		})
	}
}

func TestOAuthServerStrict(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	iss := NewIssuer(t, nil)
	srv := NewOAuthServer(t, &OAuthServerOptions{Signer: iss, Clients: map[string]OAuthClient{
		"c1": {Secret: "s1", PublicKey: &key.PublicKey},
	}})
	assertion := func(aud string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "c1", "sub": "c1", "aud": aud, "exp": time.Now().Add(time.Minute).Unix(), "jti": randomB64URL(16)})
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	replayed := assertion(srv.TokenURL)
	form := func(kv ...string) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		basic  bool
		status int
		code   string
	}{
		{"post secret", form("client_id", "c1", "client_secret", "s1"), false, 200, ""},
		{"basic secret", form(), true, 200, ""},
		{"two methods", form("client_id", "c1", "client_secret", "s1"), true, 400, "invalid_request"},
		{"no auth", form(), false, 401, "invalid_client"},
		{"wrong secret", form("client_id", "c1", "client_secret", "nope"), false, 401, "invalid_client"},
		{"wrong grant", form("grant_type", "password", "client_id", "c1", "client_secret", "s1"), false, 400, "unsupported_grant_type"},
		{"assertion", form("client_assertion_type", clientAssertionType, "client_assertion", replayed), false, 200, ""},
		{"replayed assertion", form("client_assertion_type", clientAssertionType, "client_assertion", replayed), false, 401, "invalid_client"},
		{"assertion wrong aud", form("client_assertion_type", clientAssertionType, "client_assertion", assertion("https://other")), false, 401, "invalid_client"},
		{"assertion wrong type", form("client_assertion_type", "jwt", "client_assertion", assertion(srv.TokenURL)), false, 400, "invalid_request"},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodPost, srv.TokenURL, strings.NewReader(tc.form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.basic {
			req.SetBasicAuth("c1", "s1")
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		_ = resp.Body.Close()
		assert.Equal(t, tc.status, resp.StatusCode, "%s: %v", tc.name, body)
		if tc.code != "" {
			assert.Equal(t, tc.code, body["error"], tc.name)
		} else {
			assert.NotEmpty(t, body["access_token"], tc.name)
		}
	}
}
