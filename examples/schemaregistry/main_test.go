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

// TestSchemaRegistryRunsOffline runs the example against the emulators:
// the schema is registered through the bearer-auth transport with both
// Confluent headers, and records round-trip through sr.Serde.
func TestSchemaRegistryRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "cars", records: 3}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, `registered a JSON schema for subject "cars-value": id 1, version 1`)
	assert.Contains(t, s, "consumer fetched schema id 1 from the registry")
	assert.Equal(t, 3, strings.Count(s, "consumed {Make:"))
	assert.Contains(t, s, "consumed {Make:Fiat Model:500 Price:17000}")
	// The registry requires target-sr-cluster lsrc-offln1 and
	// Confluent-Identity-Pool-Id pool-Offl1: without them it refuses.
	assert.Regexp(t, `registry: \d+ requests authorized, 0 refused`, s)
	assert.Contains(t, s, ", 0 refused;")
	assert.Contains(t, s, "identityPoolId:pool-Offl1")
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
		"bad CA file": {config{bootstrap: "pkc-1.example:9092", target: "api://kafka", srURL: "https://psrc-1.example", srCAFile: "main.go"}, "holds no PEM certificate"},
		"bad pool":    {config{bootstrap: "pkc-1.example:9092", target: "api://kafka", srURL: "https://psrc-1.example", identityPool: "pool 1"}, "IdentityPoolID"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), &bytes.Buffer{}, tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
