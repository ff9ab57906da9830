package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestQuickstartRunsOffline runs the README's first command in-process:
// IMDS, brokers and a Schema Registry validating tokens, schema
// registration, produce and consume, and the report of what was saved.
func TestQuickstartRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{topic: "quickstart", records: 3}.run,
		"registered schema 1 (version 1) for subject quickstart-value")
	assert.Equal(t, 3, strings.Count(s, `consumed "record`))
	assert.Contains(t, s, "produced and consumed 3 records")
	offlinetest.RegistryAuthorizedAll(t, s)
	// One token serves every connection: the cache is the point.
	offlinetest.AllAccepted(t, s, "", "identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
	assert.Regexp(t, `saved: 1 request to the identity provider for [2-9]\d* Kafka authentications`, s)
	assert.Contains(t, s, "next: ")
	assert.NotContains(t, s, "map[", "no Go map syntax")
}

// TestQuickstartNeedsTarget checks the real mode names its missing flag.
func TestQuickstartNeedsTarget(t *testing.T) {
	offlinetest.Refuses(t, config{bootstrap: "pkc-1.example:9092", topic: "t", records: 1}.run, "-audience")
}
