//go:build linux

package idptest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/internal/nofds"
)

// TestConstructorsFatalWhenTheyCannotListen: an emulator that cannot
// listen (here: no file descriptor is left) is reported through
// t.Fatalf, as TB's doc says, and the constructor returns nil having
// registered nothing. Failed before: httptest panicked.
func TestConstructorsFatalWhenTheyCannotListen(t *testing.T) {
	var tb fakeTB
	var iss *Issuer
	if !nofds.Run(t, func() { iss = NewIssuer(&tb, nil) }) {
		return
	}
	assert.Nil(t, iss)
	assert.Regexp(t, `^idptest: could not listen on 127\.0\.0\.1: .*too many open files`, tb.fatal)
	assert.Empty(t, tb.cleanups)
}
