package faultmatrix

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// gceLife is the lifetime of the metadata server's tokens in the matrix.
const gceLife = otherLife

// The metadata server's paths of the default service account's access
// and ID tokens.
const (
	gceTokenPath    = "/computeMetadata/v1/instance/service-accounts/default/token"
	gceIdentityPath = "/computeMetadata/v1/instance/service-accounts/default/identity"
)

// gceStatus is a metadata server error reply: plain text.
func gceStatus(code int, ra time.Duration) idptest.Fault {
	return idptest.Fault{Status: code, RetryAfter: ra, Body: http.StatusText(code) + "\n"}
}

func gcpManagedKafkaKit() kit {
	return kit{name: "gcp managed kafka", start: func(t *testing.T, _ *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		g := idptest.NewGCE(t, &idptest.GCEOptions{Lifetime: gceLife})
		src, err := gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{MetadataServer: true, HTTPClient: g.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: g.Server, path: gceTokenPath, closeIdP: g.Close, status: gceStatus,
			shaped: func(s shape) idptest.Fault {
				// expires_in is relative: the IdP's clock does not show
				// in it, so a skewed server's token looks normal.
				reply := map[string]any{"access_token": "ya29.c.faultmatrix-" + s.String(), "token_type": "Bearer"}
				switch s {
				case noExp:
				case expired:
					reply["expires_in"] = -3600
				case farFuture:
					reply["expires_in"] = 10 * 365 * 24 * 3600
				default:
					reply["expires_in"] = int(gceLife / time.Second)
				}
				return jsonFault(reply)
			}}
	}}
}

func gcpIDTokenKit() kit {
	return kit{name: "gcp id token", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		const aud = "kafka.faultmatrix.example"
		g := idptest.NewGCE(t, &idptest.GCEOptions{Signer: iss, Lifetime: gceLife})
		src, err := gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: aud, MetadataServer: true, HTTPClient: g.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: g.Server, path: gceIdentityPath, closeIdP: g.Close, status: gceStatus,
			shaped: func(s shape) idptest.Fault {
				now, life := shapeTimes(s, gceLife)
				return idptest.Fault{Status: http.StatusOK, Body: iss.Sign(claimsAt(iss.IssuerURL, g.UniqueID, aud, now, life))}
			}}
	}}
}

func (s shape) String() string {
	return [...]string{"noexp", "expired", "farfuture", "skewed"}[s]
}
