package oauthbearertest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/internal/rejectreason"
)

// googleTestAccessToken fetches an access token from g as a GCE VM would.
func googleTestAccessToken(t *testing.T, g *idptest.GCE) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", nil)
	require.NoError(t, err)
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := g.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(b, &tr))
	return tr.AccessToken
}

// googleTestWrap builds a wrapper as GcpLoginCallbackHandler does, from
// raw header and claims JSON.
func googleTestWrap(header, claims, access string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(header)) + "." + e([]byte(claims)) + "." + e([]byte(access))
}

// TestBrokerGoogleMode checks the broker's GoogleAccessTokens mode accepts
// exactly the wrapper of an access token its GCE issued, with the
// service account's email as principal, and refuses every deviation.
// Fails before the GoogleAccessTokens option: the broker sends every
// token to the JWT validator, which refuses GOOG_OAUTH2_TOKEN as
// malformed.
func TestBrokerGoogleMode(t *testing.T) {
	t.Parallel()
	g := idptest.NewGCE(t, nil)
	access := googleTestAccessToken(t, g)
	const hdr = `{"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}`
	now := time.Now()
	exp := now.Add(50 * time.Minute).Unix()
	claims := func(sub string, exp int64, scope string) string {
		b, _ := json.Marshal(map[string]any{"exp": exp, "iat": now.Unix(), "scope": scope, "sub": sub})
		return string(b)
	}
	good := googleTestWrap(hdr, claims(g.Email, exp, "kafka"), access)

	b := NewBroker(t, &BrokerOptions{GoogleAccessTokens: g})
	w := brokerTestDial(t, b)
	w.handshake(1)
	resp := w.authenticate(brokerTestFirst(good))
	require.Equal(t, int16(0), resp.ErrorCode, brokerTestErrMsg(resp))
	auths := b.Authentications()
	require.Len(t, auths, 1)
	assert.True(t, auths[0].Accepted, auths[0].Detail)
	assert.Equal(t, g.Email, auths[0].Principal)

	cases := map[string]struct {
		token  string
		reason string
	}{
		"unknown access token": {googleTestWrap(hdr, claims(g.Email, exp, "kafka"), "ya29.not-issued"), rejectreason.UnknownAccessToken},
		"other email":          {googleTestWrap(hdr, claims("mallory@evil.iam.gserviceaccount.com", exp, "kafka"), access), rejectreason.SubjectMismatch},
		"exp beyond token":     {googleTestWrap(hdr, claims(g.Email, now.Add(3*time.Hour).Unix(), "kafka"), access), rejectreason.SubjectMismatch},
		"exp past":             {googleTestWrap(hdr, claims(g.Email, now.Add(-time.Hour).Unix(), "kafka"), access), string(jwtverify.Expired)},
		"wrong scope":          {googleTestWrap(hdr, claims(g.Email, exp, "openid"), access), string(jwtverify.BadScope)},
		"blank sub":            {googleTestWrap(hdr, claims(" ", exp, "kafka"), access), string(jwtverify.NoSubject)},
		"extra header field":   {googleTestWrap(`{"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN","kid":"x"}`, claims(g.Email, exp, "kafka"), access), string(jwtverify.Malformed)},
		"two segments":         {good[:len(good)-len(base64.RawURLEncoding.EncodeToString([]byte(access)))-1], string(jwtverify.Malformed)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := NewBroker(t, &BrokerOptions{GoogleAccessTokens: g})
			w := brokerTestDial(t, b)
			w.handshake(1)
			resp := w.authenticate(brokerTestFirst(tc.token))
			// An invalid token gets the RFC 7628 challenge, not an error.
			assert.Contains(t, string(resp.SASLAuthBytes), "invalid_token")
			brokerTestAssertRejected(t, b, tc.reason)
		})
	}
}
