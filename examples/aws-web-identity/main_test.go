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

const offlineRole = "arn:aws:iam::123456789012:role/kafka-workload"

// TestRunsOffline runs the example as `go run . -offline` does: the STS
// emulator signs a web identity token for the role, brokers configured
// like Aiven's validate it, franz-go produces and consumes.
func TestRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "my-topic", records: 4, duration: time.Hour}), out.String())
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "got a token from STS for "+offlineRole+" (audience "+offlineAudience+"), valid for ")
	assert.Contains(t, s, "produced 4 records")
	assert.Equal(t, 4, strings.Count(s, "consumed \"record"))
	m := regexp.MustCompile(`brokers accepted (\d+) of (\d+) authentications.*; principal (\S+)`).FindStringSubmatch(s)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.NotEqual(t, "0", m[1])
	assert.Equal(t, offlineRole, m[3], "the broker's principal is the role ARN")
	assert.NotContains(t, s, "eyJ", "no token is printed")
	assert.NotContains(t, s, "offline-example-not-a-secret")
}

// TestRequiresClusterAndAudience checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndAudience(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "t", records: 1, duration: time.Hour})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-bootstrap and -audience are required")
}
