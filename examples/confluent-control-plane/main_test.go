package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offlinetest"
)

// TestControlPlaneRunsOffline runs the example against the emulators: the
// Azure token is exchanged at the STS, and only the exchanged token opens
// the environments endpoint (the stand-in refuses the Azure token itself:
// see examples/internal/offline's tests).
func TestControlPlaneRunsOffline(t *testing.T) {
	s := offlinetest.Run(t, func(ctx context.Context, out io.Writer) error { return run(ctx, out, config{offline: true}) })
	assert.Contains(t, s, "identity pool pool-Offl1 sees 2 environments:\n  env-offl1  production\n  env-offl2  staging\n")
	assert.Contains(t, s, "the IMDS emulator issued 1 token\n")
	assert.Contains(t, s, "the Confluent Cloud API stand-in accepted 1 of 1 request\n")
}

// TestControlPlaneConfigErrors checks the real-cloud mode refuses an
// incomplete configuration before contacting anything.
func TestControlPlaneConfigErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  config
		want string
	}{
		"no target": {config{identityPool: "pool-a1"}, "-target and -identity-pool are required"},
		"no pool":   {config{target: "api://ccloud"}, "-target and -identity-pool are required"},
		"bad pool":  {config{target: "api://ccloud", identityPool: "lkc-1"}, "IdentityPoolID"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, run(context.Background(), io.Discard, tc.cfg), tc.want)
		})
	}
}
