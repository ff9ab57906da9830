package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestSPIFFERunsOffline runs the example against the Workload API emulator:
// one JWT-SVID serves every connection, every authentication is accepted
// as the workload's SPIFFE ID, and no token is printed.
func TestSPIFFERunsOffline(t *testing.T) {
	s := offlinetest.Run(t, config{offline: true, topic: "orders"}.run)
	assert.Regexp(t, `produced and consumed "authenticated by a JWT-SVID" at partition \d offset 0`, s)
	assert.Contains(t, s, "the SPIFFE agent issued 1 JWT-SVID\n")
	offlinetest.AllAccepted(t, s, "spiffe://example.org/workload", "")
}
