package idptest

import (
	"encoding/json"
	"io"
	"net/http"
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
