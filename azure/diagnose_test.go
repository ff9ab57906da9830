package azure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

func TestDiagnose(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	tests := map[string]struct {
		ttl      time.Duration
		claims   map[string]any
		v1       bool
		problems []string
		check    func(t *testing.T, r azure.Report)
	}{
		"v2": {ttl: time.Hour, claims: map[string]any{"ver": "2.0", "iss": "https://login.microsoftonline.com/t/v2.0", "tid": "t", "oid": "o", "azp": "app"},
			check: func(t *testing.T, r azure.Report) {
				assert.Equal(t, "2.0", r.Version)
				assert.Equal(t, "t", r.TenantID)
				assert.Equal(t, "o", r.ObjectID)
				assert.Equal(t, "app", r.AppID)
				assert.Equal(t, "api://kafka", r.Audience)
				assert.InDelta(t, time.Hour.Seconds(), r.Remaining.Seconds(), 60)
				assert.False(t, r.IssuedAt.IsZero())
			}},
		"v1": {ttl: time.Hour, claims: map[string]any{"ver": "1.0", "iss": "https://sts.windows.net/t/", "appid": "app"}, v1: true,
			problems: []string{"v1 token", "accessTokenAcceptedVersion"},
			check:    func(t *testing.T, r azure.Report) { assert.Equal(t, "app", r.AppID) }},
		"v1 by issuer only": {ttl: time.Hour, claims: map[string]any{"iss": "https://sts.windows.net/t/"}, v1: true, problems: []string{"accessTokenAcceptedVersion"}},
		"expired":           {ttl: -time.Minute, claims: map[string]any{"ver": "2.0"}, problems: []string{"expired at"}},
		"no exp":            {ttl: time.Hour, claims: map[string]any{"ver": "2.0", "exp": nil}, problems: []string{"no exp claim"}},
		"no subject":        {ttl: time.Hour, claims: map[string]any{"ver": "2.0", "sub": nil}, problems: []string{"neither oid nor sub"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tok := iss.Mint("subject", "api://kafka", tc.ttl, tc.claims)
			r, err := azure.Diagnose(tok)
			require.NoError(t, err)
			assert.Equal(t, tc.v1, r.IsV1())
			if len(tc.problems) == 0 {
				assert.Empty(t, r.Problems())
			}
			for _, p := range tc.problems {
				assert.Contains(t, r.String(), p)
			}
			assert.NotContains(t, r.String(), tok)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestDiagnoseRejectsNonJWT(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "opaque-secret-value", "a.b.c", "eyJhbGciOiJub25lIn0.eyJ2ZXIiOiIyLjAifQ"} {
		_, err := azure.Diagnose(s)
		require.Error(t, err, s)
		assert.Contains(t, err.Error(), "azure: cannot diagnose")
		if s != "" {
			assert.NotContains(t, err.Error(), s)
		}
	}
}
