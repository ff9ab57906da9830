package main

import (
	"testing"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

const offlineRole = "arn:aws:iam::123456789012:role/kafka-workload"

// TestRunsOffline runs the example as `go run . -offline` does: the STS
// emulator signs a web identity token for the role, brokers configured
// like Aiven's validate it, franz-go produces and consumes.
func TestRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "my-topic"}.run,
		"STS signed a token for "+offlineRole+" (audience kafka-orders-acme.a.aivencloud.com), valid for 1h0m0s",
		`produced and consumed "hello from `+offlineRole+`" at partition`,
		"the STS emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, offlineRole, "")
}

// TestRequiresClusterAndAudience checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndAudience(t *testing.T) {
	offlinetest.Refuses(t, config{topic: "t"}.run, "-bootstrap and -audience are required")
}
