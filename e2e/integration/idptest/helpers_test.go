package idptest_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// noTokenIssued fails unless every request to the emulator was refused.
func noTokenIssued(t *testing.T, s *idptest.Server) {
	t.Helper()
	for _, r := range s.Requests() {
		assert.Empty(t, r.Token, "%s %s issued a token", r.Method, r.Path)
	}
}

// kidOf is the key ID in a JWT's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	kid, _ := parsed.Header["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}
