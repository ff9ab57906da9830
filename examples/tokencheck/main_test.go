package main

import (
	"testing"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
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
			// offlinetest.Run also checks that no JWT ("eyJ") is printed.
			offlinetest.Run(t, config{source: tc.source, offline: true, offlineReject: tc.reject}.run,
				append(tc.want, tc.verdict, "answered by:", "remaining:")...)
		})
	}
}

// TestTokenCheckRefusesUnknownSource checks the flag validation message.
func TestTokenCheckRefusesUnknownSource(t *testing.T) {
	t.Parallel()
	offlinetest.Refuses(t, config{source: "gcp"}.run, `-source is "gcp"`)
}
