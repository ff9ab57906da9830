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

// TestRunsOffline runs the example as `go run . -offline` does: a
// service-account token file, the Entra emulator exchanging it, brokers
// validating every token, sarama producing and consuming with Confluent
// Cloud's extensions.
func TestRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "test", records: 4}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "got an Entra v2.0 token for principal")
	assert.Contains(t, s, "tenant "+offlineTenantID+", audience "+offlineTarget)
	assert.Contains(t, s, "produced 4 records")
	assert.Equal(t, 4, strings.Count(s, "consumed \"record"))
	assert.Contains(t, s, "produced and 4 consumed")
	m := regexp.MustCompile(`brokers accepted (\d+) of (\d+) authentications`).FindStringSubmatch(s)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.NotEqual(t, "0", m[1])
	assert.Contains(t, s, "extensions map[identityPoolId:pool-7yzk logicalCluster:lkc-w25n5g]")
	assert.NotContains(t, s, "eyJ", "no token or assertion is printed")
}

// TestRequiresClusterAndTarget checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndTarget(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "test", records: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-bootstrap and -target are required")
}
