package idptest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gceGet(t *testing.T, c *http.Client, u string, flavor bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if flavor {
		req.Header.Set("Metadata-Flavor", "Google")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "Google", resp.Header.Get("Metadata-Flavor"), "every reply names the flavor")
	return resp.StatusCode, string(b)
}

// TestGCEStrict checks the emulator is as strict as the metadata server:
// the header is required, the identity endpoint needs an audience, and
// both token kinds are what Google's servers hand out.
func TestGCEStrict(t *testing.T) {
	t.Parallel()
	g := NewGCE(t, &GCEOptions{AllowedAudiences: []string{"kafka.example.com"}})
	c := g.Client()
	base := "http://" + gceMetadataHostname

	code, _ := gceGet(t, c, base+gceTokenPath, false)
	assert.Equal(t, http.StatusForbidden, code, "no Metadata-Flavor header")

	code, body := gceGet(t, c, base+gceTokenPath+"?scopes="+gceCloudPlatformScope, true)
	require.Equal(t, http.StatusOK, code)
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	assert.Equal(t, int64(3599), tr.ExpiresIn)
	owner, expiry, ok := g.AccessToken(tr.AccessToken)
	require.True(t, ok)
	assert.Equal(t, g.Email, owner)
	assert.WithinDuration(t, time.Now().Add(time.Hour), expiry, time.Minute)

	code, _ = gceGet(t, c, base+gceTokenPath+"?scopes=https://www.googleapis.com/auth/other", true)
	assert.Equal(t, http.StatusForbidden, code, "a scope the VM lacks")

	code, _ = gceGet(t, c, base+gceIdentityPath, true)
	assert.Equal(t, http.StatusBadRequest, code, "no audience")
	code, _ = gceGet(t, c, base+gceIdentityPath+"?audience=other", true)
	assert.Equal(t, http.StatusBadRequest, code, "audience not allowed")

	code, idt := gceGet(t, c, base+gceIdentityPath+"?audience=kafka.example.com&format=full", true)
	require.Equal(t, http.StatusOK, code)
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(idt, claims)
	require.NoError(t, err)
	assert.Equal(t, g.UniqueID, claims["sub"])
	assert.Equal(t, g.Email, claims["email"])
	assert.Equal(t, "kafka.example.com", claims["aud"])
	assert.Equal(t, g.Signer.IssuerURL, claims["iss"])

	code, email := gceGet(t, c, base+gceEmailPath, true)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, g.Email, email)
}

// TestGCETokenEndpointTakesOnlyATokenForm: the service-account key's
// token endpoint passes the gate every token endpoint here does (a form
// of at most 64 KiB, else invalid_request) and marks every reply
// no-store, as Google's does. Failed before: it parsed any body of up to
// 10 MB itself and sent no Cache-Control.
func TestGCETokenEndpointTakesOnlyATokenForm(t *testing.T) {
	t.Parallel()
	g := NewGCE(t, nil)
	var key struct {
		PrivateKey string `json:"private_key"`
		TokenURI   string `json:"token_uri"`
	}
	require.NoError(t, json.Unmarshal(g.ServiceAccountKeyJSON, &key))
	rsaKey, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(key.PrivateKey))
	require.NoError(t, err)
	now := time.Now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": g.Email, "aud": key.TokenURI,
		"scope": gceCloudPlatformScope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).SignedString(rsaKey)
	require.NoError(t, err)
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	post := func(t *testing.T, contentType, body string) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := g.Client().Post(key.TokenURI, contentType, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var reply map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
		return resp, reply
	}
	t.Run("form", func(t *testing.T) {
		resp, reply := post(t, "application/x-www-form-urlencoded", form.Encode())
		assert.Equal(t, http.StatusOK, resp.StatusCode, reply)
		assert.NotEmpty(t, reply["access_token"])
	})
	t.Run("json", func(t *testing.T) {
		b, err := json.Marshal(map[string]string{"grant_type": jwtBearerGrant, "assertion": assertion})
		require.NoError(t, err)
		resp, reply := post(t, "application/json", string(b))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "invalid_request", reply["error"])
	})
	t.Run("oversized form", func(t *testing.T) {
		big := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}, "padding": {strings.Repeat("x", 64<<10)}}
		resp, reply := post(t, "application/x-www-form-urlencoded", big.Encode())
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "invalid_request", reply["error"])
	})
}
