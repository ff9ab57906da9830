package idptest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchemaRegistryAuthentication(t *testing.T) {
	t.Parallel()
	iss := NewIssuer(t, nil)
	reg := NewSchemaRegistry(t, &SchemaRegistryOptions{Issuer: iss, ExpectedAudience: "sr", LogicalCluster: "lsrc-1", IdentityPoolID: "pool-b"})
	good := iss.Mint("wl", "sr", time.Hour, nil)
	tests := map[string]struct {
		auth, lsrc, pool string
		status           int
		reason           string
	}{
		"ok":           {"Bearer " + good, "lsrc-1", "pool-a,pool-b", 200, ""},
		"no auth":      {"", "lsrc-1", "pool-b", 401, "no Authorization header"},
		"basic":        {"Basic dTpw", "lsrc-1", "pool-b", 401, "not a Bearer token"},
		"no cluster":   {"Bearer " + good, "", "pool-b", 401, "no target-sr-cluster"},
		"other pool":   {"Bearer " + good, "lsrc-1", "pool-c", 401, "does not include pool-b"},
		"bad audience": {"Bearer " + iss.Mint("wl", "kafka", time.Hour, nil), "lsrc-1", "pool-b", 401, "bad_audience"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, reg.URL+"/subjects", nil)
			require.NoError(t, err)
			for k, v := range map[string]string{"Authorization": tc.auth, "target-sr-cluster": tc.lsrc, "Confluent-Identity-Pool-Id": tc.pool} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			resp, err := reg.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			if tc.status == 401 {
				var body map[string]any
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
				assert.Equal(t, map[string]any{"error_code": float64(401), "message": "Unauthorized"}, body)
			}
		})
	}
	var authorized, unauthorized int
	reasons := map[string]bool{}
	for _, r := range reg.Requests() {
		switch r.Status {
		case http.StatusUnauthorized:
			unauthorized++
			reasons[r.Error] = true
		case http.StatusOK:
			authorized++
			assert.Equal(t, "wl", r.Subject)
			assert.Equal(t, "lsrc-1", r.LogicalCluster)
			assert.Equal(t, "pool-a,pool-b", r.IdentityPoolID)
		}
	}
	for _, tc := range tests {
		if tc.reason != "" {
			found := false
			for r := range reasons {
				if r != "" && strings.Contains(r, tc.reason) {
					found = true
				}
			}
			assert.True(t, found, "reason %q recorded", tc.reason)
		}
	}
	assert.Equal(t, 5, unauthorized)
	assert.Equal(t, 1, authorized)

	// A token revoked early: 401 in the registry's own shape.
	reg.FailNext(1, Fault{Status: http.StatusUnauthorized, Code: "401", Message: "Unauthorized"})
	req, _ := http.NewRequest(http.MethodGet, reg.URL+"/subjects", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	req.Header.Set("target-sr-cluster", "lsrc-1")
	req.Header.Set("Confluent-Identity-Pool-Id", "pool-b")
	for _, want := range []int{401, 200} {
		resp, err := reg.Client().Do(req)
		require.NoError(t, err)
		if want == 401 {
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			assert.Equal(t, map[string]any{"error_code": float64(401), "message": "Unauthorized"}, body)
			assert.Equal(t, `Bearer realm="schema-registry"`, resp.Header.Get("WWW-Authenticate"))
		}
		_ = resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode)
	}
}

// TestSchemaRegistryEndpoints drives the registry endpoints the bearer
// transport's users call, and Confluent's error body for a missing schema.
func TestSchemaRegistryEndpoints(t *testing.T) {
	t.Parallel()
	iss := NewIssuer(t, nil)
	reg := NewSchemaRegistry(t, &SchemaRegistryOptions{Issuer: iss})
	tok := iss.Mint("wl", "sr", time.Hour, nil)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, reg.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := reg.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, strings.TrimSpace(b.String())
	}
	st, body := do("GET", "/subjects", "")
	assert.Equal(t, 200, st)
	assert.Equal(t, `[]`, body)
	st, body = do("POST", "/subjects/cars-value/versions", `{"schema":"{\"type\":\"string\"}","schemaType":"JSON"}`)
	assert.Equal(t, 200, st)
	assert.JSONEq(t, `{"id":1}`, body)
	_, body = do("POST", "/subjects/cars-value/versions", `{"schema":"{\"type\":\"string\"}","schemaType":"JSON"}`)
	assert.JSONEq(t, `{"id":1}`, body, "the same schema keeps its ID and version")
	_, body = do("POST", "/subjects/other/versions", `{"schema":"\"long\""}`)
	assert.JSONEq(t, `{"id":2}`, body)
	_, body = do("GET", "/subjects", "")
	assert.JSONEq(t, `["cars-value","other"]`, body)
	_, body = do("GET", "/schemas/ids/1", "")
	assert.JSONEq(t, `{"schema":"{\"type\":\"string\"}","schemaType":"JSON"}`, body)
	_, body = do("GET", "/schemas/ids/2", "")
	assert.JSONEq(t, `{"schema":"\"long\""}`, body, "AVRO, the default type, is not echoed")
	_, body = do("GET", "/schemas/ids/1/versions", "")
	assert.JSONEq(t, `[{"subject":"cars-value","version":1}]`, body)
	_, body = do("GET", "/subjects/cars-value/versions", "")
	assert.JSONEq(t, `[1]`, body)
	_, body = do("GET", "/subjects/cars-value/versions/latest", "")
	assert.JSONEq(t, `{"subject":"cars-value","version":1,"id":1,"schema":"{\"type\":\"string\"}","schemaType":"JSON"}`, body)
	st, body = do("GET", "/schemas/ids/9", "")
	assert.Equal(t, 404, st)
	assert.JSONEq(t, `{"error_code":40403,"message":"Schema 9 not found"}`, body)
	st, body = do("GET", "/subjects/nope/versions", "")
	assert.Equal(t, 404, st)
	assert.JSONEq(t, `{"error_code":40401,"message":"Subject 'nope' not found."}`, body)
	st, body = do("POST", "/subjects/x/versions", `{}`)
	assert.Equal(t, 422, st)
	assert.Contains(t, body, `"error_code":42201`)
}
