package jwtverify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestNewDefaultClientHasTimeout: a Verifier made without a client (as
// the Entra emulator's for federated issuers) fetches the JWKS with a
// client that gives up, not with http.DefaultClient, which never does.
func TestNewDefaultClientHasTimeout(t *testing.T) {
	v := New("http://127.0.0.1:1/jwks", nil)
	assert.Equal(t, fetchTimeout, v.client.Timeout)
}

// TestAllowance: zero is the default skew, a negative skew none.
func TestAllowance(t *testing.T) {
	assert.Equal(t, DefaultSkew, Allowance(0))
	assert.Equal(t, time.Duration(0), Allowance(-1))
	assert.Equal(t, 5*time.Second, Allowance(5*time.Second))
}
