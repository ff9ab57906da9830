package main

import (
	"testing"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestControlPlaneRunsOffline runs the example against the emulators: the
// Azure token is exchanged at the STS, and only the exchanged token opens
// the environments endpoint (the stand-in refuses the Azure token itself:
// see examples/internal/offline's tests).
func TestControlPlaneRunsOffline(t *testing.T) {
	offlinetest.Run(t, config{offline: true}.run,
		"identity pool pool-Offl1 sees 2 environments:\n  env-offl1  production\n  env-offl2  staging\n",
		"the IMDS emulator issued 1 token\n",
		"the Confluent Cloud API stand-in accepted 1 of 1 request\n")
}

// TestControlPlaneConfigErrors checks the real-cloud mode refuses an
// incomplete configuration before contacting anything.
func TestControlPlaneConfigErrors(t *testing.T) {
	offlinetest.Refuses(t, config{identityPool: "pool-a1"}.run, "-audience and -identity-pool are required")  // no target
	offlinetest.Refuses(t, config{audience: "api://ccloud"}.run, "-audience and -identity-pool are required") // no pool
	offlinetest.Refuses(t, config{audience: "api://ccloud", identityPool: "lkc-1"}.run, "IdentityPoolID")     // bad pool
}
