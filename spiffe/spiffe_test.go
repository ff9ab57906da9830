package spiffe_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func newSource(t *testing.T, opts *spiffe.Options) *oauthbearer.Cache {
	t.Helper()
	src, err := spiffe.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// decode returns a compact JWS's header and claims, unverified.
func decode(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, dst))
	}
	return header, claims
}

// The source fetches a JWT-SVID for the audience with the claims SPIRE
// issues; the Principal is the SPIFFE ID and the Expiry the exp claim.
func TestFetch(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: "https://spire.example.org"})
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, defaultSPIFFEID, tok.Principal)
	h, c := decode(t, tok.Value)
	assert.Equal(t, "ES256", h["alg"])
	assert.NotEmpty(t, h["kid"])
	assert.Equal(t, defaultSPIFFEID, c["sub"])
	assert.Equal(t, []any{"kafka"}, c["aud"], "aud is an array, as SPIRE issues it")
	assert.Equal(t, "https://spire.example.org", c["iss"])
	assert.InDelta(t, (5 * time.Minute).Seconds(), c["exp"].(float64)-c["iat"].(float64), 0)
	assert.Equal(t, int64(c["exp"].(float64)), tok.Expiry.Unix())
	assert.Equal(t, 1, agent.SignedCount())
}

// Without Options.Issuer the emulator, as SPIRE without jwt_issuer, puts no
// iss claim in the SVID.
func TestNoIssuerByDefault(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, nil)
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	_, c := decode(t, tok.Value)
	assert.NotContains(t, c, "iss")
}

// SPIFFE_ENDPOINT_SOCKET is the default address.
func TestAddressFromEnvironment(t *testing.T) {
	agent := spiffetest.NewWorkloadAPI(t, nil)
	t.Setenv(spiffe.SocketEnv, agent.Address)
	src := newSource(t, &spiffe.Options{Audience: "kafka"})
	_, err := src.Token(context.Background())
	require.NoError(t, err)
}

// Short-lived SVIDs are replaced before they expire, without a caller
// waiting: every token handed out is one the agent issued, and a new one
// arrives once the agent's half-life cache lets it. Fails if the cache
// is not refreshed (the first token would be served until its margin and
// then a caller would wait) or the source caches SVIDs itself.
func TestRotation(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Lifetime: 4 * time.Second})
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	first, err := src.Token(context.Background())
	require.NoError(t, err)
	var next oauthbearer.Token
	require.Eventually(t, func() bool {
		tok, err := src.Token(context.Background())
		require.NoError(t, err)
		require.True(t, time.Now().Before(tok.Expiry), "a token past its exp was handed out")
		next = tok
		return tok.Value != first.Value
	}, 20*time.Second, 20*time.Millisecond)
	assert.True(t, next.Expiry.After(first.Expiry))
	assert.GreaterOrEqual(t, agent.SignedCount(), 2)
}

// The agent restarts: while it is away, calls fail with a transient
// ErrAgentUnavailable once the held SVID is no longer usable; once it is
// back, the source reconnects on its own and gets a fresh SVID.
func TestAgentRestart(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Lifetime: 2 * time.Second})
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	first, err := src.Token(context.Background())
	require.NoError(t, err)

	agent.Stop()
	require.Eventually(t, func() bool {
		_, err := src.Token(context.Background())
		return err != nil
	}, 20*time.Second, 20*time.Millisecond, "the held SVID outlived its exp")
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, spiffe.ErrAgentUnavailable)
	assert.True(t, oauthbearer.IsTransient(err), "%v", err)

	agent.Start()
	var tok oauthbearer.Token
	require.Eventually(t, func() bool {
		tok, err = src.Token(context.Background())
		return err == nil
	}, 20*time.Second, 20*time.Millisecond, "no SVID after the agent came back: %v", err)
	assert.NotEqual(t, first.Value, tok.Value)
}

// No socket at the address: a transient error naming the address and
// saying what is wrong; the agent starting later heals it.
func TestMissingSocket(t *testing.T) {
	t.Parallel()
	addr := "unix://" + filepath.Join(t.TempDir(), "agent.sock")
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: addr})
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, spiffe.ErrAgentUnavailable)
	assert.True(t, oauthbearer.IsTransient(err))
	assert.Contains(t, err.Error(), addr)
	assert.Contains(t, err.Error(), "Options.Address")
	assert.Contains(t, err.Error(), "no socket there")
	assert.Contains(t, err.Error(), "troubleshooting.md#spiffe-unreachable")
}

// A socket nobody listens on (an agent that crashed without removing it).
func TestSocketNobodyListens(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, nil)
	path := strings.TrimPrefix(agent.Address, "unix://")
	agent.Stop()
	require.NoError(t, os.WriteFile(path, nil, 0o600)) // a stale file where the socket was
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, spiffe.ErrAgentUnavailable)
	assert.Contains(t, err.Error(), "not running")
}

// A process no registration entry matches gets ErrNoIdentity ("no identity
// issued", SPIRE's PermissionDenied), transient because an entry created
// on the server reaches the agent at its next sync; then it succeeds.
func TestUnregisteredWorkload(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Entries: []spiffetest.Entry{{SPIFFEID: "spiffe://example.org/other", UID: os.Getuid() + 1}}})
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, spiffe.ErrNoIdentity)
	assert.True(t, oauthbearer.IsTransient(err))
	assert.Contains(t, err.Error(), "no registration entry matches this process")
	assert.Contains(t, err.Error(), "troubleshooting.md#spiffe-no-identity")

	agent.SetEntries(spiffetest.Entry{SPIFFEID: "spiffe://example.org/orders", UID: os.Getuid()})
	require.Eventually(t, func() bool {
		tok, err := src.Token(context.Background())
		return err == nil && tok.Principal == "spiffe://example.org/orders"
	}, 20*time.Second, 20*time.Millisecond)
}

// A workload with several identities: Options.SPIFFEID picks one; an ID it
// is not entitled to is ErrNoIdentity naming the option.
func TestSPIFFEIDSelection(t *testing.T) {
	t.Parallel()
	uid := os.Getuid()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{Entries: []spiffetest.Entry{
		{SPIFFEID: "spiffe://example.org/a", UID: uid}, {SPIFFEID: "spiffe://example.org/b", UID: uid},
	}})
	def := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	tok, err := def.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "spiffe://example.org/a", tok.Principal, "default: the first SVID")

	b := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address, SPIFFEID: "spiffe://example.org/b"})
	tok, err = b.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "spiffe://example.org/b", tok.Principal)
	_, c := decode(t, tok.Value)
	assert.Equal(t, "spiffe://example.org/b", c["sub"])

	other := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address, SPIFFEID: "spiffe://example.org/c"})
	_, err = other.Token(context.Background())
	require.ErrorIs(t, err, spiffe.ErrNoIdentity)
	assert.Contains(t, err.Error(), "spiffe://example.org/c (Options.SPIFFEID)")
}

// An SVID that does not carry the requested audience (or has no exp) is
// refused by the source with the audience named, never quoting the token.
func TestAudienceMismatch(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, nil)
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
	agent.FailNext(1, spiffetest.Fault{Claims: map[string]any{"aud": []string{"schema-registry"}}})
	_, err := src.Token(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `audience "kafka"`)
	assert.Contains(t, err.Error(), "schema-registry")
	assert.Contains(t, err.Error(), "troubleshooting.md#spiffe-audience")
	assert.False(t, oauthbearer.IsTransient(err))
	assert.NotContains(t, err.Error(), "eyJ")
}

// Other Workload API failures: each is classified and says what to do.
func TestAgentErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		fault     spiffetest.Fault
		transient bool
		contains  string
	}{
		"invalid argument": {fault: spiffetest.Fault{Code: codes.InvalidArgument, Message: "audience must be specified"}, contains: "check Options.Audience"},
		"unimplemented":    {fault: spiffetest.Fault{Code: codes.Unimplemented, Message: "unknown service"}, contains: "does not implement the SPIFFE Workload API"},
		"unavailable":      {fault: spiffetest.Fault{Code: codes.Unavailable, Message: "could not fetch JWT-SVID: server down"}, transient: true, contains: "unreachable"},
		"internal":         {fault: spiffetest.Fault{Code: codes.Internal, Message: "boom"}, transient: true, contains: "Internal: boom"},
		"no exp":           {fault: spiffetest.Fault{Claims: map[string]any{"exp": nil}}, contains: "missing exp claim"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			agent := spiffetest.NewWorkloadAPI(t, nil)
			src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address})
			agent.FailNext(1, tc.fault)
			_, err := src.Token(context.Background())
			require.Error(t, err)
			assert.Equal(t, tc.transient, oauthbearer.IsTransient(err), "%v", err)
			assert.Contains(t, err.Error(), tc.contains)
			assert.Contains(t, err.Error(), agent.Address)
		})
	}
}

// An agent that accepts the call and never answers is cut off by the
// cache's FetchTimeout with a transient error.
func TestAgentHangs(t *testing.T) {
	t.Parallel()
	agent := spiffetest.NewWorkloadAPI(t, nil)
	src := newSource(t, &spiffe.Options{Audience: "kafka", Address: agent.Address, Cache: &oauthbearer.CacheOptions{FetchTimeout: 200 * time.Millisecond}})
	agent.FailNext(1, spiffetest.Fault{Hang: true})
	_, err := src.Token(context.Background())
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err), "%v", err)
}

// Bad options are errors of New that name the option as written.
func TestOptionErrors(t *testing.T) {
	t.Setenv(spiffe.SocketEnv, "")
	tests := map[string]struct {
		opts     *spiffe.Options
		contains string
	}{
		"nil":            {nil, "Options.Audience is empty"},
		"no audience":    {&spiffe.Options{Address: "unix:///x"}, "Options.Audience is empty"},
		"spaces":         {&spiffe.Options{Audience: " kafka", Address: "unix:///x"}, `Options.Audience is " kafka", with spaces or line breaks around or in it`},
		"bad id":         {&spiffe.Options{Audience: "kafka", Address: "unix:///x", SPIFFEID: "example.org/a"}, `Options.SPIFFEID "example.org/a" is not a SPIFFE ID`},
		"no address":     {&spiffe.Options{Audience: "kafka"}, "set Options.Address or SPIFFE_ENDPOINT_SOCKET"},
		"bad scheme":     {&spiffe.Options{Audience: "kafka", Address: "http://127.0.0.1:8081"}, `Options.Address "http://127.0.0.1:8081"`},
		"tcp with host":  {&spiffe.Options{Audience: "kafka", Address: "tcp://localhost:8081"}, "IP:port"},
		"relative unix ": {&spiffe.Options{Audience: "kafka", Address: "unix:agent.sock"}, "must not be opaque"},
		// An SVID over a non-loopback TCP address would cross the network
		// in clear (plaintext gRPC). Fails before the loopback check:
		// go-spiffe accepts any tcp://IP:port.
		"tcp remote": {&spiffe.Options{Audience: "kafka", Address: "tcp://192.0.2.1:8081"}, "must be a loopback IP"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := spiffe.New(tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.contains)
		})
	}
	t.Setenv(spiffe.SocketEnv, "ftp://x")
	_, err := spiffe.New(&spiffe.Options{Audience: "kafka"})
	assert.ErrorContains(t, err, `SPIFFE_ENDPOINT_SOCKET "ftp://x"`)

	// The SPIFFE ID is quoted through srvtext.Quote: a URL's query (which
	// may hold a signature) is dropped and a pasted blob is clipped. On
	// main it was only clipped.
	_, err = spiffe.New(&spiffe.Options{Audience: "kafka", Address: "unix:///x", SPIFFEID: "spiffe://example.org/a?sig=s3cr3t-signature"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Options.SPIFFEID "spiffe://example.org/a" is not a SPIFFE ID`)
	assert.NotContains(t, err.Error(), "s3cr3t")

	// An address that does not parse: go-spiffe's error quotes it whole
	// (user info, path, escaped control characters); the address is
	// removed from that text as it is from ours. On main the library's
	// error was quoted raw after the scrubbed "<not a URL>".
	for _, addr := range []string{
		"tcp://agent:hunter2-s3cr3t@127.0.0.1:80%zz",
		"unix://agent:hunter2-s3cr3t@/run/agent.sock\x01",
	} {
		_, err = spiffe.New(&spiffe.Options{Audience: "kafka", Address: addr})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Options.Address")
		assert.NotContains(t, err.Error(), "hunter2")
		assert.NotContains(t, err.Error(), "s3cr3t")
	}
}

// Close releases the gRPC connection: with the agent still running, no
// goroutine of the source is left (TestMain checks the whole package too).
func TestCloseLeavesNoGoroutine(t *testing.T) {
	agent := spiffetest.NewWorkloadAPI(t, nil)
	before := leakcheck.Current()
	src, err := spiffe.New(&spiffe.Options{Audience: "kafka", Address: agent.Address})
	require.NoError(t, err)
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, src.Close())
	leakcheck.VerifyNone(t, before,
		// the emulator's server side of the closed connection
		"google.golang.org/grpc.(*Server).handleRawConn", "google.golang.org/grpc.(*Server).serveStreams",
		"google.golang.org/grpc/internal/transport.(*http2Server)", "google.golang.org/grpc/internal/transport.NewServerTransport",
		"google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run")
	_, err = src.Token(context.Background())
	assert.ErrorIs(t, err, oauthbearer.ErrClosed)
}

// defaultSPIFFEID is the identity of spiffetest's default registration
// entry (Options.Entries).
const defaultSPIFFEID = "spiffe://example.org/workload"
