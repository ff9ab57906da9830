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

const offlineEmail = "orders@acme-prod.iam.gserviceaccount.com"

// TestRunsOffline runs the example as `go run . -offline` does: ADC finds
// the emulated metadata server, the brokers in Google Managed Kafka mode
// check the wrapped access token and see the service account's email.
func TestRunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "my-topic"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "got a token for "+offlineEmail)
	assert.Contains(t, s, `produced and consumed "hello from `+offlineEmail+`"`)
	assert.Contains(t, s, "the GCE metadata server emulator issued 1 token\n")
	m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on .*, as principal (\S+)`).FindStringSubmatch(s)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.Equal(t, offlineEmail, m[3])
	assert.NotContains(t, s, "ya29.", "no token is printed")
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestRunsOfflineIDToken is the -id-token mode: the brokers validate the
// ID token against the emulated Google issuer's JWKS; the principal is
// the numeric service account ID.
func TestRunsOfflineIDToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, idToken: true, topic: "my-topic"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	m := regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on .*, as principal (\d+)\n`).FindStringSubmatch(s)
	require.NotNil(t, m, "the principal is the numeric service account ID")
	assert.Equal(t, m[2], m[1])
	assert.NotContains(t, s, "eyJ", "no token is printed")
}

// TestRequiresCluster checks the real-cloud mode names its missing flags.
func TestRequiresCluster(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, config{topic: "t"})
	require.ErrorContains(t, err, "-bootstrap")
}
