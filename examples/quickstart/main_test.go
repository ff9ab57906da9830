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

// TestQuickstartRunsOffline runs the README's first command in-process:
// local identity provider, brokers and a Schema Registry validating tokens,
// schema registration, produce and consume.
func TestQuickstartRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{topic: "quickstart", records: 3}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "token refreshed")
	assert.Contains(t, s, `registered a schema for subject "quickstart-value" in the Schema Registry: id 1, version 1 (bearer token, target-sr-cluster lsrc-quick1)`)
	assert.Contains(t, s, "produced 3 records")
	assert.Equal(t, 3, strings.Count(s, "consumed \"record"))
	assert.Contains(t, s, "logicalCluster:lkc-quick1")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}
