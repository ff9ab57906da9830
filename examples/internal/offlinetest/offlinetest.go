// Package offlinetest holds the assertions the example programs' tests
// share when they run an example in its -offline mode.
package offlinetest

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
)

// Run calls run as the example's main does, with a 30-second deadline,
// requires it to succeed and returns what it printed, which must contain
// each of want and hold no token (a JWT starts "eyJ") and none of
// [offline.Secrets].
func Run(t *testing.T, run func(ctx context.Context, out io.Writer) error, want ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.NotContains(t, s, "eyJ", "no token or assertion is printed")
	for _, secret := range offline.Secrets {
		assert.NotContains(t, s, secret, "no secret or token is printed")
	}
	for _, w := range want {
		assert.Contains(t, s, w)
	}
	return s
}

var brokerSummary = regexp.MustCompile(`the brokers accepted (\d+) of (\d+) authentications? on [^\n]*?(?:, as principal (\S+))?(?: with extensions ([^\n]*))?\n`)

// AllAccepted requires the offline brokers' summary line in out, checks
// that every authentication it counts was accepted, and that the last one
// was as principal with extensions ("k=v, k=v") where these are not "".
// It returns the principal and extensions the line names.
func AllAccepted(t *testing.T, out, principal, extensions string) (string, string) {
	t.Helper()
	m := brokerSummary.FindStringSubmatch(out)
	require.NotNil(t, m, "the brokers' summary is printed")
	assert.Equal(t, m[2], m[1], "every authentication was accepted")
	assert.NotEqual(t, "0", m[2], "the brokers saw an authentication")
	if principal != "" {
		assert.Equal(t, principal, m[3], "the brokers' principal")
	}
	if extensions != "" {
		assert.Equal(t, extensions, m[4], "the extensions the brokers saw")
	}
	return m[3], m[4]
}

var registrySummary = regexp.MustCompile(`the Schema Registry authorized (\d+) of (\d+) requests?`)

// RegistryAuthorizedAll requires the Schema Registry emulator's summary
// line in out and checks that it refused no request.
func RegistryAuthorizedAll(t *testing.T, out string) {
	t.Helper()
	m := registrySummary.FindStringSubmatch(out)
	require.NotNil(t, m, "the registry's summary is printed")
	assert.Equal(t, m[2], m[1], "no registry request was refused")
}

// Refuses calls run as in the real mode (no deadline, output discarded)
// and requires an error that contains each of want; it returns the error.
func Refuses(t *testing.T, run func(ctx context.Context, out io.Writer) error, want ...string) error {
	t.Helper()
	err := run(context.Background(), io.Discard)
	require.Error(t, err)
	for _, w := range want {
		assert.ErrorContains(t, err, w)
	}
	return err
}
