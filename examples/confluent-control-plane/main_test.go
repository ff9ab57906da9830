package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestControlPlaneRunsOffline runs the example against the emulators: the
// Azure token is exchanged at the STS, and only the exchanged token opens
// the environments endpoint.
func TestControlPlaneRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "exchanged the Azure token at the Confluent STS for pool pool-Offl1")
	assert.Contains(t, s, "GET /org/v2/environments: 200 OK, 2 items")
	assert.Contains(t, s, "env-offl1  production")
	assert.Contains(t, s, "control-plane stand-in: 1 requests accepted, 0 refused")
	assert.Contains(t, s, "Confluent STS emulator: 1 exchanges; last answered 200")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestControlPlaneStandInRefusesNonConfluentTokens shows the offline
// stand-in checks what the real API checks, so the offline run proves the
// exchange happened: the Azure token itself, a token for another pool and
// a forged one are refused.
func TestControlPlaneStandInRefusesNonConfluentTokens(t *testing.T) {
	t.Parallel()
	env, err := startOffline()
	require.NoError(t, err)
	t.Cleanup(func() { env.close(func(string, ...any) {}) })
	// forger signs with "iss" Confluent but a key the control plane does
	// not trust.
	forger := oauthbearertest.NewIssuer(&oauthbearertest.IssuerOptions{IssuerURL: "Confluent"})
	t.Cleanup(forger.Close)
	confluentClaims := func(sub string) map[string]any {
		return map[string]any{"iss": "Confluent", "aud": "CONTROL_PLANE", "sub": sub,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	}
	for name, tc := range map[string]struct {
		auth string
		want int
	}{
		"exchanged token":    {"Bearer " + env.signer.Sign(confluentClaims(offlinePool)), http.StatusOK},
		"no token":           {"", http.StatusUnauthorized},
		"azure token itself": {"Bearer " + env.issuer.Mint("workload", env.target, time.Hour, nil), http.StatusUnauthorized},
		"other pool":         {"Bearer " + env.signer.Sign(confluentClaims("pool-Other")), http.StatusUnauthorized},
		"forged":             {"Bearer " + forger.Sign(confluentClaims(offlinePool)), http.StatusUnauthorized},
		"basic auth":         {"Basic a2V5OnNlY3JldA==", http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, env.api.URL+"/org/v2/environments", nil)
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// TestControlPlaneConfigErrors checks the real-cloud mode refuses an
// incomplete configuration before contacting anything.
func TestControlPlaneConfigErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  config
		want string
	}{
		"no target":        {config{identity: "managed", identityPool: "pool-a1"}, "-target"},
		"no pool":          {config{identity: "managed", target: "api://ccloud"}, "-identity-pool"},
		"unknown identity": {config{identity: "magic", target: "api://ccloud", identityPool: "pool-a1"}, `-identity "magic"`},
		"bad pool":         {config{identity: "managed", target: "api://ccloud", identityPool: "lkc-1"}, "IdentityPoolID"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), &bytes.Buffer{}, tc.cfg)
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), tc.want), "%v does not contain %q", err, tc.want)
		})
	}
}
