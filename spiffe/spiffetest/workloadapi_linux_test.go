//go:build linux

package spiffetest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/internal/nofds"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// When the signing keys' JWKS server cannot listen (here: no file
// descriptor is left) and the TB's Fatalf returns, NewWorkloadAPI reports
// it once and returns nil, leaving nothing registered on the TB.
// Failed before: it panicked on the nil issuer.
func TestNewWorkloadAPIReportsAnIssuerThatCannotStart(t *testing.T) {
	tb := &faketb.Recorder{}
	var w *spiffetest.WorkloadAPI
	if !nofds.Run(t, func() { w = spiffetest.NewWorkloadAPI(tb, nil) }) {
		return
	}
	assert.Nil(t, w)
	assert.Regexp(t, `^spiffetest: idptest: .*too many open files`, tb.Fatal)
	assert.Empty(t, tb.Cleanups)
}
