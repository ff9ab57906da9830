package idptest

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultCodeInEachEmulatorsFormat: a Fault with a Code answers in the
// error format of the service the emulator plays, so a client's error
// parser sees what the real service sends, and the request records the
// code.
func TestFaultCodeInEachEmulatorsFormat(t *testing.T) {
	t.Parallel()
	iss := NewIssuer(t, nil)
	fault := Fault{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded", RetryAfter: 1500 * time.Millisecond}
	type reply struct {
		status int
		header http.Header
		body   string
	}
	get := func(t *testing.T, s *Server, c *http.Client, u string) reply {
		t.Helper()
		s.FailNext(1, fault)
		resp, err := c.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		reqs := s.Requests()
		assert.Equal(t, "Throttling", reqs[len(reqs)-1].Error)
		assert.Equal(t, http.StatusBadRequest, reqs[len(reqs)-1].Status)
		assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")
		return reply{resp.StatusCode, resp.Header, string(b)}
	}
	oauthJSON := func(t *testing.T, r reply) {
		t.Helper()
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &body), r.body)
		assert.Equal(t, map[string]any{"error": "Throttling", "error_description": "Rate exceeded"}, body)
	}

	t.Run("sts", func(t *testing.T) {
		s := NewSTS(t, nil)
		r := get(t, s.Server, s.Client(), s.URL+"/")
		var doc struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Error   struct{ Type, Code, Message string }
		}
		require.NoError(t, xml.Unmarshal([]byte(r.body), &doc), r.body)
		assert.Equal(t, stsNamespace, doc.XMLName.Space)
		assert.Equal(t, "Sender", doc.Error.Type)
		assert.Equal(t, "Throttling", doc.Error.Code)
		assert.Equal(t, "Rate exceeded", doc.Error.Message)
		assert.Equal(t, "text/xml", r.header.Get("Content-Type"))
	})
	t.Run("oauth server", func(t *testing.T) {
		s := NewOAuthServer(t, &OAuthServerOptions{Signer: iss, Clients: map[string]OAuthClient{"c": {Secret: "s"}}})
		r := get(t, s.Server, s.Client(), s.TokenURL)
		oauthJSON(t, r)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	})
	t.Run("confluent sts", func(t *testing.T) {
		s := NewConfluentSTS(t, &ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{Issuer: iss, Pools: []string{"pool-a"}}}})
		r := get(t, s.Server, s.Client(), s.TokenURL)
		oauthJSON(t, r)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	})
	t.Run("imds", func(t *testing.T) {
		m := NewIMDS(t, nil)
		oauthJSON(t, get(t, m.Server, m.Client(), "http://"+imdsAddress+imdsTokenPath))
	})
	t.Run("entra", func(t *testing.T) {
		e := NewEntra(t, nil)
		r := get(t, e.Server, e.Client(), e.TokenURL("tenant"))
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &body), r.body)
		assert.Equal(t, "Throttling", body["error"])
		assert.True(t, strings.HasPrefix(body["error_description"].(string), "Rate exceeded Trace ID: "), body["error_description"])
		assert.NotEmpty(t, body["correlation_id"])
	})
	t.Run("gce metadata", func(t *testing.T) {
		g := NewGCE(t, nil)
		r := get(t, g.Server, g.Client(), "http://"+gceMetadataHostname+gceTokenPath)
		assert.Equal(t, "Rate exceeded\n", r.body)
		assert.Equal(t, "Google", r.header.Get("Metadata-Flavor"))
	})
	t.Run("gce token endpoint", func(t *testing.T) {
		g := NewGCE(t, nil)
		r := get(t, g.Server, g.Client(), g.URL+gceTokenURIPath)
		oauthJSON(t, r)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	})
	t.Run("schema registry", func(t *testing.T) {
		s := NewSchemaRegistry(t, &SchemaRegistryOptions{Issuer: iss})
		r := get(t, s.Server, s.Client(), s.URL+"/subjects")
		assert.JSONEq(t, `{"error_code":400,"message":"Rate exceeded"}`, r.body)
	})
}

// TestRequestsRecordWhatEachEmulatorUnderstood: each emulator fills the
// Request fields its documentation names.
func TestRequestsRecordWhatEachEmulatorUnderstood(t *testing.T) {
	t.Parallel()
	t.Run("sts", func(t *testing.T) {
		s := NewSTS(t, nil)
		resp := stsDo(t, s, url.Values{"Action": {"GetWebIdentityToken"}, "Version": {stsAPIVersion},
			"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"ES384"}, "DurationSeconds": {"600"},
			"Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"orders"}})
		_ = resp.Body.Close()
		r := s.Requests()[0]
		assert.Equal(t, Request{Method: "POST", Path: "/", Query: url.Values{}, Status: http.StatusOK,
			AccessKeyID: "AKIDEXAMPLE", Region: "us-west-2", Audience: []string{"kafka"}, SigningAlgorithm: "ES384",
			DurationSeconds: 600, Tags: map[string]string{"team": "orders"}, Token: r.Token}, r)
		assert.NotEmpty(t, r.Token)
	})
	t.Run("imds", func(t *testing.T) {
		m := NewIMDS(t, nil)
		body := imdsTestToken(t, m, "api://kafka")
		r := m.Requests()[0]
		assert.Equal(t, Request{Method: "GET", Path: imdsTokenPath, Query: r.Query, Status: http.StatusOK,
			TenantID: m.TenantID, ClientID: m.SystemAssigned.ClientID, Subject: m.SystemAssigned.ObjectID,
			Resource: "api://kafka", Token: body["access_token"].(string)}, r)
	})
	t.Run("entra", func(t *testing.T) {
		b := newEntraTestBench(t, false)
		tok := b.token(t, "api://kafka-orders/.default")
		reqs := b.entra.Requests()
		r := reqs[len(reqs)-1]
		assert.Equal(t, entraTestTenant, r.TenantID)
		assert.Equal(t, entraTestClient, r.ClientID)
		assert.Equal(t, "api://kafka-orders/.default", r.Scope)
		assert.Equal(t, "api://kafka-orders", r.Resource)
		assert.Equal(t, tok, r.Token)
		assert.Equal(t, entraTestClaims(t, tok)["sub"], r.Subject)
		assert.Equal(t, "system:serviceaccount:ns:sa", entraTestClaims(t, r.Assertion)["sub"])
	})
	t.Run("gce", func(t *testing.T) {
		g := NewGCE(t, nil)
		_, idt := gceGet(t, g.Client(), "http://"+gceMetadataIP+gceIdentityPath+"?audience=kafka", true)
		_, _ = gceGet(t, g.Client(), "http://"+gceMetadataIP+gceTokenPath, true)
		reqs := g.Requests()
		assert.Equal(t, "identity", reqs[0].Kind)
		assert.Equal(t, []string{"kafka"}, reqs[0].Audience)
		assert.Equal(t, idt, reqs[0].Token)
		assert.Equal(t, "access", reqs[1].Kind)
		assert.Equal(t, gceCloudPlatformScope, reqs[1].Scope)
		email, _, ok := g.AccessToken(reqs[1].Token)
		assert.True(t, ok)
		assert.Equal(t, g.Email, email)
	})
	t.Run("confluent sts", func(t *testing.T) {
		idp := NewIssuer(t, nil)
		s := NewConfluentSTS(t, &ConfluentSTSOptions{Providers: []ConfluentIdentityProvider{{Issuer: idp, Pools: []string{"pool-a"}}}})
		subject := idp.Mint("wl", "app", time.Hour, nil)
		form := url.Values{"grant_type": {confluentGrantTokenExchange}, "subject_token": {subject},
			"identity_pool_id": {"pool-a"}, "subject_token_type": {confluentTokenTypeJWT}, "requested_token_type": {confluentTokenTypeAccess}}
		_, body := confluentPost(t, s.Client(), s.TokenURL, "application/x-www-form-urlencoded", form)
		form.Set("identity_pool_id", "pool-zz")
		_, _ = confluentPost(t, s.Client(), s.TokenURL, "application/x-www-form-urlencoded", form)
		reqs := s.Requests()
		assert.Equal(t, Request{Method: "POST", Path: confluentSTSPath, Query: url.Values{}, Status: http.StatusOK,
			IdentityPoolID: "pool-a", Subject: "wl", Assertion: subject, Token: body["access_token"].(string)}, reqs[0])
		assert.Equal(t, Request{Method: "POST", Path: confluentSTSPath, Query: url.Values{}, Status: http.StatusBadRequest,
			Error: "invalid_request", IdentityPoolID: "pool-zz", Assertion: subject}, reqs[1])
	})
}

// TestRequestsAreDeepCopies: what a test does with the returned records
// does not change the emulator's.
func TestRequestsAreDeepCopies(t *testing.T) {
	t.Parallel()
	s := NewSTS(t, nil)
	resp := stsDo(t, s, url.Values{"Action": {"GetWebIdentityToken"}, "Version": {stsAPIVersion},
		"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"RS256"}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}})
	_ = resp.Body.Close()
	first := s.Requests()
	first[0].Audience[0], first[0].Tags["k"] = "changed", "changed"
	first[0].Query.Set("x", "y")
	again := s.Requests()[0]
	assert.Equal(t, []string{"kafka"}, again.Audience)
	assert.Equal(t, map[string]string{"k": "v"}, again.Tags)
	assert.Empty(t, again.Query)
}

// TestBufferedFaultsRecordWhatTheHandlerUnderstood: with a Trickle or
// Malformed fault the handler writes into a buffer; the request still
// records what the handler understood, and the status actually sent.
func TestBufferedFaultsRecordWhatTheHandlerUnderstood(t *testing.T) {
	t.Parallel()
	s := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil), Clients: map[string]OAuthClient{"c": {Secret: "s"}}})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"wrong"}}
	s.FailNext(1, Fault{Trickle: time.Microsecond})
	s.FailNext(1, Fault{Malformed: true})
	for range 2 {
		resp, err := s.Client().PostForm(s.TokenURL, form)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	for i, status := range []int{http.StatusUnauthorized, http.StatusOK} {
		assert.Equal(t, status, reqs[i].Status)
		assert.Equal(t, "c", reqs[i].ClientID)
		assert.Equal(t, "invalid_client", reqs[i].Error)
	}
}

// TestCloseClosesTheEmulatorsOwnSigner: an emulator closes the Issuer it
// started, and leaves one it was given running.
func TestCloseClosesTheEmulatorsOwnSigner(t *testing.T) {
	t.Parallel()
	given := NewIssuer(t, nil)
	withGiven := NewIMDS(t, &IMDSOptions{Signer: given})
	own := NewIMDS(t, nil)
	withGiven.Close()
	own.Close()
	resp, err := given.Client().Get(given.JWKSURL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	_, err = own.Signer.Client().Get(own.Signer.JWKSURL)
	assert.Error(t, err, "the emulator's own signer is closed")
	own.Close() // idempotent
}

// TestIssuedListsOnlyAnsweredWithAToken: a refused request is in Requests
// but not in Issued.
func TestIssuedListsOnlyAnsweredWithAToken(t *testing.T) {
	t.Parallel()
	s := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil), Clients: map[string]OAuthClient{"c": {Secret: "s"}}})
	for _, secret := range []string{"wrong", "s"} {
		resp, err := s.Client().PostForm(s.TokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {secret}})
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	require.Len(t, s.Requests(), 2)
	issued := s.Issued()
	require.Len(t, issued, 1)
	assert.Equal(t, http.StatusOK, issued[0].Status)
	assert.NotEmpty(t, issued[0].Token)
}

// TestClearFaultsEndsAnOutage: the faults FailNext queued and no request
// met are dropped; the next request is served normally.
func TestClearFaultsEndsAnOutage(t *testing.T) {
	t.Parallel()
	s := NewOAuthServer(t, &OAuthServerOptions{Signer: NewIssuer(t, nil), Clients: map[string]OAuthClient{"c": {Secret: "s"}}})
	post := func() int {
		resp, err := s.Client().PostForm(s.TokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"s"}})
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	s.FailNext(1000, Fault{Status: http.StatusServiceUnavailable})
	assert.Equal(t, http.StatusServiceUnavailable, post())
	s.ClearFaults()
	assert.Equal(t, http.StatusOK, post())
	assert.Len(t, s.Issued(), 1)
}
