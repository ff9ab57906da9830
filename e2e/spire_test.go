//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
)

// The real SPIRE of the e2e suite: the version .ci/spire.sh builds.
const (
	spireVersion     = "v1.13.3"
	spireTrustDomain = "e2e.example.org"
	spireIssuer      = "https://spire.e2e.example.org"
	spireAudience    = "kafka-spiffe-e2e"
	spireWorkloadID  = "spiffe://e2e.example.org/kafka-client"
	spireSVIDTTL     = 20 * time.Second
)

// TestRealSPIRE produces and consumes through the real Kafka 4.4 broker
// with JWT-SVIDs that a real SPIRE server and agent issue to this test
// process, across several SVID rotations: SPIRE v1.13.3 (built by
// .ci/spire.sh) with the join_token node attestor, the unix workload
// attestor (the entry's selector is unix:uid:<this process's uid>), the
// memory KeyManager and a sqlite datastore, all on loopback and unix
// sockets in a temporary directory; jwt_issuer is set (Kafka 4.4 requires
// an expected issuer) and default_jwt_svid_ttl is 20 s, so SVIDs rotate
// every ~16 s. The broker validates each SVID's signature against a JWKS
// made from SPIRE's bundle (`bundle show -format spiffe`, keys marked
// "use":"jwt-svid", which Kafka ignores, so the mark is dropped), its iss,
// aud and exp, and re-authenticates every connection within 10 s, so
// rotated SVIDs must be presented and accepted for the run to pass. Then
// the agent restarts (re-attested with a new join token) and the source,
// without being rebuilt, gets an SVID from the new agent that the broker
// accepts. With the bundle's "use":"jwt-svid" kept, the broker refuses
// every SVID (invalid_token): checked once by hand.
//
//	bash .ci/spire.sh && go test -tags e2e -run TestRealSPIRE ./e2e/
func TestRealSPIRE(t *testing.T) {
	began := time.Now()
	sp := startSPIRE(t)
	t.Logf("spire: server and agent up, workload registered, in %v", time.Since(began).Round(time.Millisecond))

	src, err := spiffe.New(&spiffe.Options{Audience: spireAudience, Address: sp.workloadAddr})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })

	// The first SVID: once the agent has synced the entry. Its claims are
	// what the emulator (spiffetest) promises.
	var first oauthbearer.Token
	require.Eventually(t, func() bool {
		first, err = src.Token(context.Background())
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "no SVID from the real agent: %v\n%s", err, sp.logs())
	assert.Equal(t, spireWorkloadID, first.Principal)
	hdr, claims := jwtParts(t, first.Value)
	assert.Equal(t, "ES256", hdr["alg"])
	assert.NotEmpty(t, hdr["kid"])
	assert.Equal(t, "JWT", hdr["typ"])
	assert.Equal(t, spireWorkloadID, claims["sub"])
	assert.Equal(t, []any{spireAudience}, claims["aud"], "SPIRE issues aud as an array")
	assert.Equal(t, spireIssuer, claims["iss"])
	assert.InDelta(t, spireSVIDTTL.Seconds(), claims["exp"].(float64)-claims["iat"].(float64), 1)
	assert.ElementsMatch(t, []string{"aud", "exp", "iat", "iss", "sub"}, keys(claims), "the claims SPIRE issues")

	jwks := sp.jwks(t)
	b := kafkatest.Start(t, kafkatest.Options{JWKSURL: jwks, Issuer: spireIssuer, Audience: spireAudience, Reauth: 10 * time.Second})

	// Every token the adapter hands out, recorded (the cache still does
	// the work: the wrapper only looks).
	var mu sync.Mutex
	seen := map[string]time.Time{} // token -> expiry
	rec := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		tok, err := src.Token(ctx)
		if err == nil {
			mu.Lock()
			if _, ok := seen[tok.Value]; !ok {
				seen[tok.Value] = tok.Expiry
			}
			mu.Unlock()
		}
		return tok, err
	})
	mech, err := franzsasl.Mechanism(rec, nil)
	require.NoError(t, err)
	const topic = "spiffe-e2e"
	cl := newClient(t, b, mech, kgo.DefaultProduceTopic(topic), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, cl.Ping(ctx))
	kafkatest.CreateTopic(ctx, t, cl, topic, 1)

	// Produce and consume until the client has authenticated with three
	// distinct SVIDs (two rotations): the broker re-authenticates the
	// connection every 10 s and refuses an expired SVID, so every one of
	// them was validated by the broker for the records to flow.
	n := 0
	for distinct(&mu, seen) < 3 {
		require.NoError(t, ctx.Err(), "gave up: %d SVIDs seen; %s", distinct(&mu, seen), sp.logs())
		v := fmt.Sprintf("svid-%d", n)
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(), "produce %d", n)
		got := pollOne(ctx, t, cl)
		require.Equal(t, v, got, "consumed")
		n++
		time.Sleep(2 * time.Second)
	}
	t.Logf("spire: %d records produced and consumed over %v with %d distinct SVIDs (ttl %v)",
		n, time.Since(first.Expiry.Add(-spireSVIDTTL)).Round(time.Second), distinct(&mu, seen), spireSVIDTTL)

	// The agent restarts (a new process on the same socket, re-attested):
	// the source's gRPC connection reconnects by itself, and the next
	// fetch (forced here) gets an SVID from the new agent that the broker
	// accepts.
	restarted := time.Now()
	held, err := src.Token(ctx)
	require.NoError(t, err)
	sp.stopAgent()
	sp.startAgent(t)
	src.Invalidate(held)
	var fresh oauthbearer.Token
	require.Eventually(t, func() bool {
		fresh, err = src.Token(ctx)
		return err == nil && fresh.Value != held.Value
	}, 60*time.Second, 200*time.Millisecond, "no SVID from the restarted agent: %v\n%s", err, sp.logs())
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("after restart")}).FirstErr())
	require.Equal(t, "after restart", pollOne(ctx, t, cl))
	t.Logf("spire: agent restarted and a fresh SVID served in %v; whole test %v", time.Since(restarted).Round(time.Millisecond), time.Since(began).Round(time.Second))
}

func distinct(mu *sync.Mutex, m map[string]time.Time) int {
	mu.Lock()
	defer mu.Unlock()
	return len(m)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// pollOne returns the value of the next record.
func pollOne(ctx context.Context, t *testing.T, cl *kgo.Client) string {
	t.Helper()
	for {
		fs := cl.PollRecords(ctx, 1)
		require.NoError(t, ctx.Err())
		for _, e := range fs.Errors() {
			require.NoError(t, e.Err, "fetch %s/%d", e.Topic, e.Partition)
		}
		if recs := fs.Records(); len(recs) > 0 {
			return string(recs[0].Value)
		}
	}
}

func jwtParts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst))
	}
	return header, claims
}

type spire struct {
	bin, dir     string
	serverSock   string
	workloadAddr string
	serverLog    *bytes.Buffer
	agentLog     *bytes.Buffer
	mu           *sync.Mutex
	agentConf    string
	stopAgent    func()
}

func (s *spire) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("--- spire-server log:\n%s\n--- spire-agent log:\n%s", tail(s.serverLog.String()), tail(s.agentLog.String()))
}

func tail(s string) string {
	if len(s) > 8000 {
		return "..." + s[len(s)-8000:]
	}
	return s
}

// lockedBuffer lets the process write its log while the test reads it.
type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// spireBin returns the directory of spire-server and spire-agent, building
// them with .ci/spire.sh if they are missing (a cold build takes 10-15
// minutes: run the script before go test, as .ci/run does).
func spireBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KWI_SPIRE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		require.NoError(t, err)
		dir = filepath.Join(home, ".cache", "kafka-workload-identity", "spire-"+spireVersion)
	}
	bin := filepath.Join(dir, "bin")
	if marker, err := os.ReadFile(filepath.Join(bin, ".complete")); err == nil && strings.TrimSpace(string(marker)) == "spire "+spireVersion {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", ".ci", "spire.sh")
	began := time.Now()
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	require.NoError(t, err, "spire: %s failed: %s", script, out)
	t.Logf("spire: %s took %v: %s", filepath.Base(script), time.Since(began).Round(time.Second), out)
	return bin
}

// startSPIRE starts a server and an agent in a temporary directory and
// registers this process (unix:uid) for spireWorkloadID.
func startSPIRE(t *testing.T) *spire {
	t.Helper()
	bin := spireBin(t)
	// Unix socket paths are limited to 108 bytes: t.TempDir() is too deep.
	dir, err := os.MkdirTemp("", "spire-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	for _, d := range []string{"server", "agent", "agent/public"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o700))
	}
	mu := &sync.Mutex{}
	s := &spire{bin: bin, dir: dir, serverSock: filepath.Join(dir, "server", "api.sock"),
		workloadAddr: "unix://" + filepath.Join(dir, "agent", "public", "api.sock"),
		serverLog:    &bytes.Buffer{}, agentLog: &bytes.Buffer{}, mu: mu}
	port := freePort(t)

	serverConf := filepath.Join(dir, "server.conf")
	require.NoError(t, os.WriteFile(serverConf, fmt.Appendf(nil, `server {
    bind_address = "127.0.0.1"
    bind_port = "%d"
    socket_path = %q
    trust_domain = %q
    data_dir = %q
    log_level = "INFO"
    jwt_issuer = %q
    default_jwt_svid_ttl = "%s"
}
plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = %q
        }
    }
    KeyManager "memory" {
        plugin_data {}
    }
    NodeAttestor "join_token" {
        plugin_data {}
    }
}
`, port, s.serverSock, spireTrustDomain, filepath.Join(dir, "server", "data"), spireIssuer, spireSVIDTTL,
		filepath.Join(dir, "server", "datastore.sqlite3")), 0o600))
	s.run(t, "spire-server", lockedBuffer{mu, s.serverLog}, "run", "-config", serverConf)
	s.waitHealthy(t, "spire-server", "-socketPath", s.serverSock)

	s.cli(t, "spire-server", "entry", "create", "-socketPath", s.serverSock,
		"-parentID", "spiffe://"+spireTrustDomain+"/agent", "-spiffeID", spireWorkloadID,
		"-selector", "unix:uid:"+strconv.Itoa(os.Getuid()))

	agentConf := filepath.Join(dir, "agent.conf")
	require.NoError(t, os.WriteFile(agentConf, fmt.Appendf(nil, `agent {
    data_dir = %q
    log_level = "INFO"
    server_address = "127.0.0.1"
    server_port = "%d"
    socket_path = %q
    trust_domain = %q
    insecure_bootstrap = true
}
plugins {
    NodeAttestor "join_token" {
        plugin_data {}
    }
    KeyManager "memory" {
        plugin_data {}
    }
    WorkloadAttestor "unix" {
        plugin_data {}
    }
}
`, filepath.Join(dir, "agent", "data"), port, strings.TrimPrefix(s.workloadAddr, "unix://"), spireTrustDomain), 0o600))
	s.agentConf = agentConf
	s.startAgent(t)
	return s
}

// startAgent attests a new agent with a fresh join token (a join token
// is single-use, and the memory KeyManager forgets the agent's key when
// it stops) as spiffe://<td>/agent, the parent of the workload's entry.
func (s *spire) startAgent(t *testing.T) {
	t.Helper()
	out := s.cli(t, "spire-server", "token", "generate", "-socketPath", s.serverSock, "-spiffeID", "spiffe://"+spireTrustDomain+"/agent", "-ttl", "600")
	m := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, "spire-server token generate printed %q", out)
	s.stopAgent = s.run(t, "spire-agent", lockedBuffer{s.mu, s.agentLog}, "run", "-config", s.agentConf, "-joinToken", m[1])
	s.waitHealthy(t, "spire-agent", "-socketPath", strings.TrimPrefix(s.workloadAddr, "unix://"))
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// run starts a long-running SPIRE process, stopped (SIGTERM, then
// SIGKILL) when the test ends.
func (s *spire) run(t *testing.T, name string, log lockedBuffer, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start(), "start %s", name)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s", s.logs())
		}
	})
	return stop
}

// cli runs a SPIRE command to completion and returns its output.
func (s *spire) cli(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s\n%s", name, strings.Join(args, " "), out, s.logs())
	return string(out)
}

func (s *spire) waitHealthy(t *testing.T, name string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, filepath.Join(s.bin, name), append([]string{"healthcheck"}, args...)...).CombinedOutput()
		cancel()
		if err == nil {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s did not become healthy: %v: %s\n%s", name, err, out, s.logs())
		time.Sleep(300 * time.Millisecond)
	}
}

// jwks serves, over HTTP on 127.0.0.1, the JWT keys of SPIRE's bundle
// (`spire-server bundle show -format spiffe`) without their
// "use":"jwt-svid" mark, which Kafka's JWT library does not accept (it
// takes keys whose use is "sig" or absent). The X.509 authorities
// ("use":"x509-svid") are left out.
func (s *spire) jwks(t *testing.T) string {
	t.Helper()
	out := s.cli(t, "spire-server", "bundle", "show", "-socketPath", s.serverSock, "-format", "spiffe")
	var bundle struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &bundle), "bundle show printed %q", out)
	var keys []map[string]any
	for _, k := range bundle.Keys {
		if k["use"] == "jwt-svid" {
			delete(k, "use")
			keys = append(keys, k)
		}
	}
	require.NotEmpty(t, keys, "SPIRE's bundle has no JWT key: %s", out)
	body, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jwks.json"
}
