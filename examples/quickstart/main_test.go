package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstartRunsOffline runs the README's first command in-process:
// IMDS, brokers and a Schema Registry validating tokens, schema
// registration, produce and consume, and the report of what was saved.
func TestQuickstartRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{topic: "quickstart", records: 3}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "registered schema 1 (version 1) for subject quickstart-value")
	assert.Equal(t, 3, strings.Count(s, `consumed "record`))
	assert.Contains(t, s, "produced and consumed 3 records")
	r := regexp.MustCompile(`the Schema Registry authorized (\d+) of (\d+) requests`).FindStringSubmatch(s)
	require.NotNil(t, r, "the registry's summary is printed")
	assert.Equal(t, r[2], r[1], "no registry request was refused")
	assert.Contains(t, s, "with extensions identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
	// One token serves every connection: the cache is the point.
	m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.Regexp(t, `saved: 1 request to the identity provider for [2-9]\d* Kafka authentications`, s)
	assert.Contains(t, s, "next: ")
	assert.NotContains(t, s, "map[", "no Go map syntax")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestQuickstartNeedsTarget checks the real mode names its missing flag.
func TestQuickstartNeedsTarget(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{bootstrap: "pkc-1.example:9092", topic: "t", records: 1})
	require.ErrorContains(t, err, "-target")
}
