package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

const offlineRole = "arn:aws:iam::123456789012:role/kafka-workload"

// TestRunsOffline runs the example as `go run . -offline` does: the STS
// emulator signs a web identity token for the role, brokers configured
// like Aiven's validate it, franz-go produces and consumes.
func TestRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "my-topic"}.run)
	assert.Contains(t, s, "STS signed a token for "+offlineRole+" (audience kafka-orders-acme.a.aivencloud.com), valid for 1h0m0s")
	assert.Contains(t, s, `produced and consumed "hello from `+offlineRole+`" at partition`)
	assert.Contains(t, s, "the STS emulator issued 1 token\n")
	principal, _ := offlinetest.AllAccepted(t, s)
	assert.Equal(t, offlineRole, principal, "the broker's principal is the role ARN")
	assert.NotContains(t, s, "offline-example-not-a-secret")
}

// TestRequiresClusterAndAudience checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndAudience(t *testing.T) {
	offlinetest.Refuses(t, config{topic: "t"}.run, "-bootstrap and -audience are required")
}
