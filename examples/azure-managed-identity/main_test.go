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

// TestRunsOffline runs the example as `go run . -offline` does: IMDS
// emulator with a user-assigned identity, brokers validating every token,
// franz-go producing and consuming with Confluent Cloud's extensions.
func TestRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "test"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Regexp(t, `got an Entra v2.0 token for \S+ \(audience [0-9a-f-]{36}\), valid for 1h0m0s`, s)
	assert.Regexp(t, `produced and consumed "hello from \S+" \(partition \d, offset 0\)`, s)
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on`).FindStringSubmatch(s)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.Contains(t, s, "with extensions identityPoolId=pool-Offl1, logicalCluster=lkc-offln1")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestRequiresClusterAndTarget checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndTarget(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "test"})
	require.ErrorContains(t, err, "-bootstrap and -target are required")
}
