package faultmatrix

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// The generic OIDC sources of issue 18 join the matrix here rather than in
// the kits list, to keep that list's line stable for other additions.
func init() {
	kits = append(kits, jwtBearerKit(), tokenFileKit())
	// The jwt-bearer grant shares the client-credentials reply parsing:
	// an expires_in of -3600 is a broken reply, and an oversized one a
	// wrong URL.
	overrides["oauth jwt-bearer/token already expired"] = want{permanent, "not a positive number"}
	overrides["oauth jwt-bearer/oversized body, 8 MiB"] = want{permanent, "larger than"}
}

// jwtBearerKit is the RFC 7523 jwt-bearer grant with an ES256 key against
// the OAuth emulator, which verifies each assertion before the fault
// replaces its reply.
func jwtBearerKit() kit {
	return kit{name: "oauth jwt-bearer", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, Lifetime: otherLife,
			Clients: map[string]idptest.OAuthClient{"svc-1": {PublicKey: &key.PublicKey}}})
		src, err := oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: s.TokenURL,
			Assertion: &oauthclient.AssertionOptions{PrivateKey: key, Issuer: "svc-1", Subject: "svc-1"}, HTTPClient: s.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: s.Server, closeIdP: s.Close, status: oauthStatus, shaped: confluentShaped(iss, "svc-1", otherLife)}
	}}
}

func tokenFileKit() kit {
	return kit{name: "token file", skip: "reads a local file and calls no identity provider; its faults (missing, empty, expired, non-JWT, FIFO, oversized file) are tokenfile's tests"}
}
