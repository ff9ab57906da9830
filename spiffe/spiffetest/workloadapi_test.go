package spiffetest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func client(t *testing.T, w *spiffetest.WorkloadAPI) *workloadapi.Client {
	t.Helper()
	c, err := workloadapi.New(context.Background(), workloadapi.WithAddr(w.Address))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A call without the workload.spiffe.io security header is refused as
// SPIRE's agent refuses it, before anything else is checked.
func TestSecurityHeaderRequired(t *testing.T) {
	t.Parallel()
	w := spiffetest.NewWorkloadAPI(t, nil)
	conn, err := grpc.NewClient(w.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	api := workload.NewSpiffeWorkloadAPIClient(conn)
	_, err = api.FetchJWTSVID(context.Background(), &workload.JWTSVIDRequest{Audience: []string{"kafka"}})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, "security header missing from request", status.Convert(err).Message())

	ctx := metadata.NewOutgoingContext(context.Background(), metadata.Pairs("workload.spiffe.io", "false"))
	_, err = api.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"kafka"}})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))

	ctx = metadata.NewOutgoingContext(context.Background(), metadata.Pairs("workload.spiffe.io", "true"))
	_, err = api.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, "audience must be specified", status.Convert(err).Message())
	_, err = api.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"kafka"}, SpiffeId: "not-an-id"})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	resp, err := api.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"kafka"}})
	require.NoError(t, err)
	assert.Len(t, resp.Svids, 1)
}

// The caller is attested by its user ID: entries for another user give
// PermissionDenied "no identity issued", SPIRE's answer.
func TestUnregisteredCaller(t *testing.T) {
	t.Parallel()
	w := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Entries: []spiffetest.Entry{{SPIFFEID: "spiffe://example.org/x", UID: os.Getuid() + 1}}})
	_, err := client(t, w).FetchJWTSVID(context.Background(), jwtsvid.Params{Audience: "kafka"})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	assert.Equal(t, "no identity issued", status.Convert(err).Message())
}

// SVIDs validate against the bundle the emulator streams (keys marked
// "use":"jwt-svid") and through ValidateJWTSVID; the agent cache returns
// the same SVID for the same audience until half its life.
func TestBundleValidatesSVIDs(t *testing.T) {
	t.Parallel()
	w := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: "https://spire.example.org"})
	c := client(t, w)
	svid, err := c.FetchJWTSVID(context.Background(), jwtsvid.Params{Audience: "kafka"})
	require.NoError(t, err)
	again, err := c.FetchJWTSVID(context.Background(), jwtsvid.Params{Audience: "kafka"})
	require.NoError(t, err)
	assert.Equal(t, svid.Marshal(), again.Marshal(), "cached by the agent")
	assert.Equal(t, 1, w.SignedCount())
	_, err = c.FetchJWTSVID(context.Background(), jwtsvid.Params{Audience: "schema-registry"})
	require.NoError(t, err)
	assert.Equal(t, 2, w.SignedCount(), "another audience is another SVID")

	bundles, err := c.FetchJWTBundles(context.Background())
	require.NoError(t, err)
	td := spiffeid.RequireTrustDomainFromString("example.org")
	parsed, err := jwtsvid.ParseAndValidate(svid.Marshal(), bundles, []string{"kafka"})
	require.NoError(t, err)
	assert.Equal(t, defaultSPIFFEID, parsed.ID.String())
	b, err := bundles.GetJWTBundleForTrustDomain(td)
	require.NoError(t, err)
	assert.Len(t, b.JWTAuthorities(), 1)

	v, err := c.ValidateJWTSVID(context.Background(), svid.Marshal(), "kafka")
	require.NoError(t, err)
	assert.Equal(t, defaultSPIFFEID, v.ID.String())
	_, err = c.ValidateJWTSVID(context.Background(), svid.Marshal(), "other")
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, "https://spire.example.org", w.IssuerURL)
	assert.Equal(t, "example.org", w.TrustDomain)
	iat, ok := svid.Claims["iat"].(float64)
	require.True(t, ok, "iat claim")
	assert.Equal(t, 5*time.Minute, svid.Expiry.Sub(time.Unix(int64(iat), 0)), "the default lifetime is SPIRE's default_jwt_svid_ttl")
}

// Rotate signs new SVIDs with a new key; SVIDs signed with the old key
// validate until it is dropped, and the address stays the same across a
// restart.
func TestRotateAndRestart(t *testing.T) {
	t.Parallel()
	w := spiffetest.NewWorkloadAPI(t, nil)
	addr := w.Address
	c := client(t, w)
	ctx := context.Background()
	old, err := c.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "kafka"})
	require.NoError(t, err)

	w.Rotate(false)
	next, err := c.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "schema-registry"})
	require.NoError(t, err)
	_, err = c.ValidateJWTSVID(ctx, old.Marshal(), "kafka")
	require.NoError(t, err, "the old key stays published")
	_, err = c.ValidateJWTSVID(ctx, next.Marshal(), "schema-registry")
	require.NoError(t, err)

	w.Rotate(true)
	_, err = c.ValidateJWTSVID(ctx, old.Marshal(), "kafka")
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "the old key is dropped")
	assert.Contains(t, status.Convert(err).Message(), "no JWT authority")

	w.Stop()
	w.Start()
	assert.Equal(t, addr, w.Address)
	// A new client at the same address: the old one's connection broke
	// with the stop, and when gRPC redials is its business (the spiffe
	// source's reconnection is tested in package spiffe).
	_, err = client(t, w).FetchJWTSVID(ctx, jwtsvid.Params{Audience: "kafka"})
	require.NoError(t, err)
}

// Bad options fail the test through Fatalf, naming the option, and leave
// nothing to clean up.
func TestBadOptions(t *testing.T) {
	t.Parallel()
	for opts, want := range map[*spiffetest.Options]string{
		{Entries: []spiffetest.Entry{{SPIFFEID: "x"}}}:                                                `spiffetest: Options.Entries[0].SPIFFEID "x": scheme is missing or invalid`,
		{Entries: []spiffetest.Entry{{SPIFFEID: "spiffe://a.org/x"}, {SPIFFEID: "spiffe://b.org/y"}}}: `spiffetest: Options.Entries[1].SPIFFEID "spiffe://b.org/y" is not in trust domain a.org`,
	} {
		tb := &faketb.Recorder{}
		assert.Nil(t, spiffetest.NewWorkloadAPI(tb, opts))
		assert.Equal(t, want, tb.Fatal)
		assert.Empty(t, tb.Cleanups)
	}
}

// A negative Lifetime issues SVIDs already expired by that much (exp -
// iat = Lifetime), the rule of every idptest emulator's Lifetime; it was
// an error before.
func TestNegativeLifetimeIssuesExpiredSVIDs(t *testing.T) {
	t.Parallel()
	w := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Lifetime: -time.Hour})
	conn, err := grpc.NewClient(w.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx := metadata.NewOutgoingContext(context.Background(), metadata.Pairs("workload.spiffe.io", "true"))
	resp, err := workload.NewSpiffeWorkloadAPIClient(conn).FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"kafka"}})
	require.NoError(t, err)
	require.Len(t, resp.Svids, 1)
	parts := strings.Split(resp.Svids[0].Svid, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct{ Exp, Iat int64 }
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, int64(-time.Hour/time.Second), claims.Exp-claims.Iat)
}

// defaultSPIFFEID is the identity of spiffetest's default registration
// entry (Options.Entries).
const defaultSPIFFEID = "spiffe://example.org/workload"
