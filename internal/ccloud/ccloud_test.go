package ccloud

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"lkc-abc123": true, "lkc-": false, "lkc-a_b": false, "pool-XyZ": false, "": false} {
		assert.Equal(t, want, ValidID(s, "lkc-"), s)
	}
	assert.True(t, ValidID("pool-XyZ", "pool-"))
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "10.0.0.1": false, "example.com": false} {
		assert.Equal(t, want, IsLoopback(host), host)
	}
}
