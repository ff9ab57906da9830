package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestRunsOffline runs the example as `go run . -offline` does: a
// service-account token file, the Entra emulator exchanging it, brokers
// validating every token, sarama producing and consuming with Confluent
// Cloud's extensions.
func TestRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "test"}.run)
	assert.Regexp(t, `produced and consumed "hello from AKS" \(partition \d, offset 0\) with sarama`, s)
	assert.Contains(t, s, "the Entra ID emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, "", "identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
}

// TestRequiresClusterAndTarget checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndTarget(t *testing.T) {
	offlinetest.Refuses(t, config{topic: "test"}.run, "-bootstrap and -audience are required")
}
