package offline

import (
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// TestControlPlaneRefusesNonConfluentTokens shows the API stand-in checks
// what the real API checks, so an offline run of confluent-control-plane
// proves the exchange happened: the Azure token itself, a token for another
// pool, an expired or forged one are refused.
func TestControlPlaneRefusesNonConfluentTokens(t *testing.T) {
	t.Parallel()
	confluent := idptest.NewIssuer(t, &idptest.IssuerOptions{IssuerURL: "Confluent"})
	forger := idptest.NewIssuer(t, &idptest.IssuerOptions{IssuerURL: "Confluent"})
	azure := idptest.NewIssuer(t, nil)
	api, err := startControlPlane(confluent.JWKSURL)
	require.NoError(t, err)
	t.Cleanup(api.close)
	claims := func(sub string, ttl time.Duration) map[string]any {
		return map[string]any{"iss": "Confluent", "aud": "CONTROL_PLANE", "sub": sub,
			"iat": time.Now().Unix(), "exp": time.Now().Add(ttl).Unix()}
	}
	for name, tc := range map[string]struct {
		auth, reason string // reason: what the 401's detail says
	}{
		"exchanged token":    {"Bearer " + confluent.Sign(claims(IdentityPool, time.Hour)), ""},
		"no token":           {"", "missing bearer token"},
		"azure token itself": {"Bearer " + azure.Mint("workload", "app", time.Hour, nil), "bad_signature"},
		"other pool":         {"Bearer " + confluent.Sign(claims("pool-Other", time.Hour)), "not an identity pool of this organization"},
		"other audience":     {"Bearer " + confluent.Mint(IdentityPool, "app", time.Hour, nil), "bad_audience"},
		"expired":            {"Bearer " + confluent.Sign(claims(IdentityPool, -time.Minute)), "expired"},
		"forged":             {"Bearer " + forger.Sign(claims(IdentityPool, time.Hour)), "bad_signature"},
		"basic auth":         {"Basic a2V5OnNlY3JldA==", "missing bearer token"},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, api.url+"/org/v2/environments", nil)
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if tc.reason == "" {
				assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				return
			}
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, string(body), tc.reason)
		})
	}
}

// TestStartRestoresEnvironment checks Close undoes what Start set, so an
// offline run leaves the process as it found it.
func TestStartRestoresEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-south-1")
	env, err := Start(AWSWebIdentity, nil)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", os.Getenv("AWS_REGION"))
	assert.NotEmpty(t, os.Getenv("AWS_ENDPOINT_URL_STS"))
	env.Close()
	assert.Equal(t, "ap-south-1", os.Getenv("AWS_REGION"))
	_, set := os.LookupEnv("AWS_ENDPOINT_URL_STS")
	assert.False(t, set)
}

// TestPlural checks the counts read as English.
func TestPlural(t *testing.T) {
	assert.Equal(t, "1 token", Plural(1, "token"))
	assert.Equal(t, "0 tokens", Plural(0, "token"))
	assert.Equal(t, "2 connections", Plural(2, "connection"))
	assert.Equal(t, "a=1, b=2", Pairs(map[string]string{"b": "2", "a": "1"}))
}

// TestStartFailureIsAnError: an emulator that cannot start (its
// constructor calls the run's Fatalf) makes Start return that message as
// an error, after closing what had started and restoring the
// environment.
func TestStartFailureIsAnError(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-south-1")
	var s stack
	err := s.start(func() error {
		idptest.NewIssuer(&s, nil)
		s.Cleanup(func() { _ = os.Setenv("AWS_REGION", "ap-south-1") })
		_ = os.Setenv("AWS_REGION", "changed")
		idptest.NewIssuer(&s, &idptest.IssuerOptions{Algorithm: "HS256"})
		return errors.New("not reached")
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HS256")
	assert.Equal(t, "ap-south-1", os.Getenv("AWS_REGION"))
	assert.Empty(t, s.cleanups)

	assert.PanicsWithValue(t, "not the emulators'", func() {
		_ = s.start(func() error { panic("not the emulators'") })
	}, "a panic that is not Fatalf's goes on")
}
