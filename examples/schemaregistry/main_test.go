package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestSchemaRegistryRunsOffline runs the example against the emulators:
// the schema is registered and fetched through the bearer transport with
// both Confluent headers (the registry emulator refuses requests without
// them), and the record round-trips through sr.Serde.
func TestSchemaRegistryRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "cars"}.run,
		"registered schema 1 for subject cars-value\n",
		"consumed a Volvo EX30 encoded with schema 1")
	offlinetest.RegistryAuthorizedAll(t, s)
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	offlinetest.AllAccepted(t, s, "", "identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
}

// TestSchemaRegistryConfigErrors checks the real-cloud mode refuses an
// incomplete configuration before contacting anything.
func TestSchemaRegistryConfigErrors(t *testing.T) {
	offlinetest.Refuses(t, config{bootstrap: "pkc-1.example:9092", srURL: "https://psrc-1.example"}.run, "-audience")                                                    // no target
	offlinetest.Refuses(t, config{bootstrap: "pkc-1.example:9092", audience: "api://kafka"}.run, "-sr-url")                                                              // no registry
	offlinetest.Refuses(t, config{bootstrap: "pkc-1.example:9092", audience: "api://kafka", srURL: "https://psrc-1.example", srCluster: "lsrc 1"}.run, "LogicalCluster") // bad pool
}
