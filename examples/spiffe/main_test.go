package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSPIFFERunsOffline runs the example against the Workload API emulator:
// one JWT-SVID serves every connection, every authentication is accepted
// as the workload's SPIFFE ID, and no token is printed.
func TestSPIFFERunsOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{offline: true, topic: "orders"}), out.String())
	s := out.String()
	t.Log("\n" + s)
	assert.Regexp(t, `produced and consumed a record at partition \d offset 0`, s)
	assert.Contains(t, s, "the SPIFFE agent issued 1 JWT-SVID\n")
	assert.Regexp(t, `the brokers accepted (\d+) of (\d+) authentications? on .*, as principal spiffe://example.org/workload`, s)
	assert.NotContains(t, s, "eyJ")
}
