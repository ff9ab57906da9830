package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestRunsOffline runs the example as `go run . -offline` does: IMDS
// emulator with a user-assigned identity, brokers validating every token,
// franz-go producing and consuming with Confluent Cloud's extensions.
func TestRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "test"}.run)
	assert.Regexp(t, `got an Entra v2.0 token for \S+ \(audience [0-9a-f-]{36}\), valid for 1h0m0s`, s)
	assert.Regexp(t, `produced and consumed "hello from \S+" at partition \d offset 0`, s)
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, "", "identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
}

// TestRequiresClusterAndTarget checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndTarget(t *testing.T) {
	offlinetest.Refuses(t, config{topic: "test"}.run, "-bootstrap and -audience are required")
}
