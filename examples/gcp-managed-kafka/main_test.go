package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

const offlineEmail = "orders@acme-prod.iam.gserviceaccount.com"

// TestRunsOffline runs the example as `go run . -offline` does: ADC finds
// the emulated metadata server, the brokers in Google Managed Kafka mode
// check the wrapped access token and see the service account's email.
func TestRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "my-topic"}.run,
		"got a token for "+offlineEmail,
		`produced and consumed "hello from `+offlineEmail+`"`,
		"the GCE metadata server emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, offlineEmail, "")
}

// TestRunsOfflineIDToken is the -id-token mode: the brokers validate the
// ID token against the emulated Google issuer's JWKS; the principal is
// the numeric service account ID.
func TestRunsOfflineIDToken(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, idToken: true, topic: "my-topic"}.run)
	principal, _ := offlinetest.AllAccepted(t, s, "", "")
	assert.Regexp(t, regexp.MustCompile(`^\d+$`), principal, "the principal is the numeric service account ID")
}

// TestRequiresCluster checks the real-cloud mode names its missing flags.
func TestRequiresCluster(t *testing.T) {
	offlinetest.Refuses(t, config{topic: "t"}.run, "-bootstrap")
}
