package oauthclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestAssertionDefaultsAreKafkas: newSigner is the one place the
// assertion's time claims get their defaults (clientprops passes Kafka's
// unset claim.exp.seconds and claim.nbf.seconds as 0): exp = iat + 300 s
// and nbf = iat - 60 s, as Kafka 4.4; a negative NotBefore is Kafka's
// claim.nbf.seconds=0 (nbf = iat); a negative Lifetime is refused.
func TestAssertionDefaultsAreKafkas(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	n := options{typ: "JWTBearerOptions", prefix: "Assertion."}
	for name, tc := range map[string]struct {
		lifetime, notBefore time.Duration
		exp, nbf            int64 // seconds from iat
	}{
		"defaults":          {exp: 300, nbf: -60},
		"set":               {lifetime: 2 * time.Minute, notBefore: 30 * time.Second, exp: 120, nbf: -30},
		"negative skew off": {notBefore: -1, exp: 300, nbf: 0},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := newSigner(AssertionOptions{PrivateKey: key, Issuer: "svc", Subject: "svc", Lifetime: tc.lifetime, NotBefore: tc.notBefore},
				n, "https://idp.example/token", func() time.Time { return now })
			require.NoError(t, err)
			a, err := s.sign(context.Background())
			require.NoError(t, err)
			claims := jwt.MapClaims{}
			_, _, err = jwt.NewParser().ParseUnverified(a, claims)
			require.NoError(t, err)
			assert.EqualValues(t, now.Unix(), claims["iat"])
			assert.EqualValues(t, now.Unix()+tc.exp, claims["exp"])
			assert.EqualValues(t, now.Unix()+tc.nbf, claims["nbf"])
		})
	}
	_, err = newSigner(AssertionOptions{PrivateKey: key, Issuer: "svc", Subject: "svc", Lifetime: -time.Second}, n, "https://idp.example/token", time.Now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JWTBearerOptions.Assertion.Lifetime is -1s; it must not be negative (0 means the default 5m0s)")
	// The one duration rule: the error type and Fields of every other
	// duration option.
	oe, ok := errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%T", err)
	assert.Equal(t, "oauthclient.JWTBearerOptions", oe.Options)
	assert.Equal(t, []string{"Assertion.Lifetime"}, oe.Fields)
}
