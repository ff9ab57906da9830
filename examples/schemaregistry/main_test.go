package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSchemaRegistryRunsOffline runs the example against the emulators:
// the schema is registered and fetched through the bearer transport with
// both Confluent headers (the registry emulator refuses requests without
// them), and the record round-trips through sr.Serde.
func TestSchemaRegistryRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "cars"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "registered schema 1 for subject cars-value\n")
	assert.Contains(t, s, "consumed a Volvo EX30 encoded with schema 1")
	m := regexp.MustCompile(`the Schema Registry authorized (\d+) of (\d+) requests`).FindStringSubmatch(s)
	require.NotNil(t, m, "the registry's summary is printed")
	assert.Equal(t, m[2], m[1], "no registry request was refused")
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	assert.Contains(t, s, "with extensions identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestSchemaRegistryConfigErrors checks the real-cloud mode refuses an
// incomplete configuration before contacting anything.
func TestSchemaRegistryConfigErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  config
		want string
	}{
		"no target":   {config{bootstrap: "pkc-1.example:9092", srURL: "https://psrc-1.example"}, "-target"},
		"no registry": {config{bootstrap: "pkc-1.example:9092", target: "api://kafka"}, "-sr-url"},
		"bad pool":    {config{bootstrap: "pkc-1.example:9092", target: "api://kafka", srURL: "https://psrc-1.example", srCluster: "lsrc 1"}, "LogicalCluster"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, run(context.Background(), &bytes.Buffer{}, tc.cfg), tc.want)
		})
	}
}
