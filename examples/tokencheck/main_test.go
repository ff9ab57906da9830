package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenCheckOffline runs the tool against the test bench for four
// sources, with a broker that accepts the token and one that expects
// another audience, and checks the verdict and that the output never
// contains the token (or the client secret). Not parallel: the workload
// identity and AWS benches set the process environment, as their
// platforms do.
func TestTokenCheckOffline(t *testing.T) {
	for name, tc := range map[string]struct {
		source  string
		reject  bool
		verdict string
		want    []string
	}{
		"azure-mi accepted":           {source: srcAzureMI, verdict: "broker:       ACCEPTED", want: []string{"version:      v2", "issuer:       http://127.0.0.1"}},
		"azure-mi rejected":           {source: srcAzureMI, reject: true, verdict: `REJECTED: oauthbearer: `, want: []string{`status "invalid_token"`, "troubleshooting.md#invalid-token"}},
		"azure-wi accepted":           {source: srcAzureWI, verdict: "broker:       ACCEPTED", want: []string{"version:      v2", "entra:        oid="}},
		"aws accepted":                {source: srcAWS, verdict: "broker:       ACCEPTED", want: []string{"subject:      arn:aws:iam::123456789012:role/kafka-workload"}},
		"client-credentials accepted": {source: srcClientCredentials, verdict: "broker:       ACCEPTED", want: []string{"audience:     kafka", "subject:      orders-svc"}},
		"client-credentials rejected": {source: srcClientCredentials, reject: true, verdict: "REJECTED: ", want: []string{`status "invalid_token"`}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var out bytes.Buffer
			c := config{source: tc.source, offline: true, offlineReject: tc.reject}
			require.NoError(t, run(ctx, &out, c), out.String())
			s := out.String()
			t.Log("\n" + s)
			assert.Contains(t, s, tc.verdict)
			for _, w := range tc.want {
				assert.Contains(t, s, w)
			}
			assert.Contains(t, s, "answered by:")
			assert.Contains(t, s, "remaining:")
			// The token is a JWT: its header and any base64url run of
			// token length would show up as "eyJ".
			assert.NotContains(t, s, "eyJ", "the output contains a token")
			assert.NotContains(t, s, "offline-client-secret-not-real", "the output contains the client secret")
		})
	}
}

// TestTokenCheckRefusesUnknownSource checks the flag validation message.
func TestTokenCheckRefusesUnknownSource(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), &bytes.Buffer{}, config{source: "gcp"})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), `-source is "gcp"`), err.Error())
}
