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

const offlineRole = "arn:aws:iam::123456789012:role/kafka-workload"

// TestRunsOffline runs the example as `go run . -offline` does: the STS
// emulator signs a web identity token for the role, brokers configured
// like Aiven's validate it, franz-go produces and consumes.
func TestRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "my-topic"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "STS signed a token for "+offlineRole+" (audience kafka-orders-acme.a.aivencloud.com), valid for 1h0m0s")
	assert.Contains(t, s, `produced and consumed "hello from `+offlineRole+`" as `+offlineRole)
	assert.Contains(t, s, "the STS emulator issued 1 token\n")
	m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on .*, as principal (\S+)`).FindStringSubmatch(s)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.Equal(t, offlineRole, m[3], "the broker's principal is the role ARN")
	assert.NotContains(t, s, "eyJ", "no token is printed")
	assert.NotContains(t, s, "offline-example-not-a-secret")
}

// TestRequiresClusterAndAudience checks the real-cloud mode names its
// missing flags instead of dialling nowhere.
func TestRequiresClusterAndAudience(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "t"})
	require.ErrorContains(t, err, "-bootstrap and -audience are required")
}
