//go:build unix

package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is a running Kafka broker. Its fields are read-only.
type Broker struct {
	// Addr is the bootstrap address (127.0.0.1:port) of the
	// SASL_PLAINTEXT listener that accepts only OAUTHBEARER tokens valid
	// for the Options' JWKS, issuer and audience.
	Addr string

	// AdminAddr is the unauthenticated PLAINTEXT listener, for setup and
	// inspection that must not depend on the code under test.
	AdminAddr string

	// Version is the Kafka version running, for example "4.4.0".
	Version string

	// StartupTime is how long the broker took from exec until it answered
	// Metadata (storage formatting not included).
	StartupTime time.Duration

	// FormatTime is how long kafka.tools.StorageTool format took.
	FormatTime time.Duration

	// Dir is the broker's working directory: server.properties,
	// broker.log and the data directory. It is removed when the test ends.
	Dir string

	logPath     string
	logFile     *os.File
	cmd         *exec.Cmd
	exited      chan struct{} // closed once cmd.Wait returns
	exitErr     error
	stopTimeout time.Duration
	stopOnce    sync.Once
}

// errPortInUse marks a start that lost a race for a port picked as free.
var errPortInUse = errors.New("kafkatest: a listener port was taken before the broker bound it")

// watchdog is run by /bin/sh as the broker's process group leader. It
// starts a poller that kills the whole group once the test binary (pid
// $1) is gone, so a test binary killed by -timeout or SIGKILL, where no
// Cleanup runs, leaves no orphan JVM; then it becomes the JVM by exec so
// the JVM's pid is the one Start knows.
const watchdog = `gopid=$1; shift
( while kill -0 "$gopid" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &
exec "$@"
`

// Start starts a broker configured by opts and waits until it answers
// Metadata. The broker is stopped when t's test ends, and on failure the
// tail of its log is printed. Start fails the test (never skips it) when
// Java or the jars are missing: run .ci/kafka-jars.sh first.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("kafkatest: java not found on PATH (%v); install a JDK 17 or newer", err)
	}
	lib, version, err := locateJars(o.Home, scriptPath(), func(script, home string) error {
		began := time.Now()
		out, err := exec.Command("bash", script, home).CombinedOutput()
		if len(out) > 0 {
			t.Logf("kafkatest: %s took %v:\n%s", filepath.Base(script), time.Since(began).Round(time.Millisecond), out)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkJWKS(o.JWKSURL); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		b, err := start(t, o, java, lib, version)
		if err == nil {
			t.Logf("kafkatest: Kafka %s ready in %v after a %v storage format (client %s, admin %s, log %s)",
				b.Version, b.StartupTime.Round(time.Millisecond), b.FormatTime.Round(time.Millisecond), b.Addr, b.AdminAddr, b.logPath)
			return b
		}
		if !errors.Is(err, errPortInUse) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("kafkatest: attempt %d: %v; retrying with new ports", attempt, err)
	}
}

// start makes one attempt. Once the JVM runs, its stop is registered
// with t.Cleanup whatever happens next.
func start(t testing.TB, o Options, java, lib, version string) (*Broker, error) {
	dir := t.TempDir()
	p, err := freePorts()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	propsPath := filepath.Join(dir, "server.properties")
	log4jPath := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(propsPath, []byte(serverProperties(o, p, dataDir)), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(log4jPath, []byte(log4jProperties), 0o600); err != nil {
		return nil, err
	}
	classpath := filepath.Join(lib, "*")
	common := []string{"-Dlog4j2.configurationFile=" + log4jPath, "-cp", classpath}

	clusterID, err := newClusterID()
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(context.Background(), o.StartTimeout)
	defer cancel()
	format := exec.CommandContext(fctx, java, append(append([]string{"-Xmx256m"}, common...),
		"kafka.tools.StorageTool", "format", "-t", clusterID, "-c", propsPath)...)
	format.Dir = dir
	formatBegan := time.Now()
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("kafkatest: formatting storage with kafka.tools.StorageTool failed: %v\n%s", err, out)
	}
	formatTime := time.Since(formatBegan)

	logPath := filepath.Join(dir, "broker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"-c", watchdog, "kafkatest-watchdog", strconv.Itoa(os.Getpid()), java,
		"-Xmx512m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
		// The broker may fetch only the JWKS: Kafka 4 refuses any other URL.
		"-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=" + o.JWKSURL,
	}
	args = append(args, o.JVMArgs...)
	args = append(args, common...)
	args = append(args, "kafka.Kafka", propsPath)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// A group of its own, so Stop can kill the JVM and the watchdog
	// together and a ^C to go test does not race our shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	b := &Broker{
		Addr:        fmt.Sprintf("127.0.0.1:%d", p.client),
		AdminAddr:   fmt.Sprintf("127.0.0.1:%d", p.admin),
		Version:     version,
		Dir:         dir,
		logPath:     logPath,
		logFile:     logFile,
		cmd:         cmd,
		exited:      make(chan struct{}),
		stopTimeout: o.StopTimeout,
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("kafkatest: starting %s: %v", java, err)
	}
	go func() {
		b.exitErr = cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		stopBegan := time.Now()
		b.Stop()
		t.Logf("kafkatest: broker stopped in %v", time.Since(stopBegan).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("kafkatest: last lines of the broker log %s:\n%s", b.logPath, b.LogTail(150))
		}
	})

	if err := b.waitReady(o.StartTimeout); err != nil {
		b.Stop()
		if strings.Contains(b.Log(), "Address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortInUse, err)
		}
		return nil, fmt.Errorf("%v\nlast lines of the broker log %s:\n%s", err, b.logPath, b.LogTail(80))
	}
	b.StartupTime = time.Since(began)
	b.FormatTime = formatTime
	return b, nil
}

// waitReady polls Metadata on the admin listener until the broker lists
// itself (it has registered with the controller and is unfenced), then
// checks that the client listener accepts connections.
func (b *Broker) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.AdminAddr), kgo.DialTimeout(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-b.exited:
			return fmt.Errorf("kafkatest: the broker exited during startup (%v)", b.exitErr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		cancel()
		switch {
		case err != nil:
			last = err
		case len(resp.Brokers) == 0:
			last = errors.New("metadata lists no brokers yet")
		default:
			c, err := net.DialTimeout("tcp", b.Addr, time.Second)
			if err == nil {
				_ = c.Close()
				return nil
			}
			last = err
		}
		select {
		case <-b.exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("kafkatest: the broker did not answer Metadata within %v (last: %v); raise Options.StartTimeout on a slow machine", timeout, last)
}

// Stop stops the broker: SIGTERM for a clean shutdown, then SIGKILL to
// the whole process group after Options.StopTimeout. Safe to call more
// than once; Start registers it with t.Cleanup.
func (b *Broker) Stop() {
	b.stopOnce.Do(func() {
		pid := b.cmd.Process.Pid
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(b.stopTimeout):
		}
		// Also ends the watchdog, which outlives the JVM otherwise.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-b.exited
		_ = b.logFile.Close()
	})
}

// Exited is closed when the broker process has ended.
func (b *Broker) Exited() <-chan struct{} { return b.exited }

// LogPath is the broker log file (stdout and stderr of the JVM).
func (b *Broker) LogPath() string { return b.logPath }

// Log returns the broker log so far, with every JWT replaced by
// "<JWT redacted>": Kafka logs a rejected token whole, and these lines end
// up in test output. The file at LogPath is untouched.
func (b *Broker) Log() string { return b.logSince(0) }

// LogMark returns a position in the broker log, for [Broker.WaitForLog]
// to look only at what is logged after it.
func (b *Broker) LogMark() int64 {
	fi, err := os.Stat(b.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LogSince returns the broker log after mark (from [Broker.LogMark]),
// with every JWT redacted as in [Broker.Log].
func (b *Broker) LogSince(mark int64) string { return b.logSince(mark) }

func (b *Broker) logSince(mark int64) string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", b.logPath, err)
	}
	if mark > int64(len(data)) {
		mark = int64(len(data))
	}
	return redactJWTs(string(data[mark:]))
}

// LogTail returns the last n lines of the broker log, JWTs redacted.
func (b *Broker) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(b.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitForLog waits until the broker log after mark (from
// [Broker.LogMark]; 0 for the whole log) contains substr, polling every
// 50 ms, and returns the first matching line, JWTs redacted. It gives up
// when ctx ends or the broker exits.
func (b *Broker) WaitForLog(ctx context.Context, mark int64, substr string) (string, error) {
	for {
		log := b.logSince(mark)
		if i := strings.Index(log, substr); i >= 0 {
			start := strings.LastIndexByte(log[:i], '\n') + 1
			end := strings.IndexByte(log[i:], '\n')
			if end < 0 {
				return log[start:], nil
			}
			return log[start : i+end], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("kafkatest: broker log has no %q: %w", substr, ctx.Err())
		case <-b.exited:
			return "", fmt.Errorf("kafkatest: broker exited and its log has no %q", substr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// AdminClient returns a franz-go client on the unauthenticated admin
// listener, closed when t's test ends; opts are added to the seed.
func (b *Broker) AdminClient(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.AdminAddr)}, opts...)...)
	if err != nil {
		t.Fatalf("kafkatest: admin client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// freePorts reserves three distinct free ports on 127.0.0.1 by binding
// them at once, then releases them for the broker. Another process can
// take one in between; Start retries when that happens.
func freePorts() (ports, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var got [3]int
	for i := range got {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports{}, fmt.Errorf("kafkatest: finding a free port: %v", err)
		}
		ls = append(ls, l)
		got[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports{client: got[0], admin: got[1], controller: got[2]}, nil
}

// checkJWKS fails fast with a clear message when the JWKS is not being
// served: the broker would otherwise start and reject every token, with
// the reason only in its log.
func checkJWKS(url string) error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("kafkatest: Options.JWKSURL %s is not reachable (%v); start the issuer before the broker", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `"keys"`) {
		return fmt.Errorf("kafkatest: Options.JWKSURL %s answered %s without a JWKS; point it at the issuer's jwks.json", url, resp.Status)
	}
	return nil
}

// scriptPath finds .ci/kafka-jars.sh relative to this source file, so
// tests in this repository can fetch the jars themselves; "" elsewhere.
func scriptPath() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", ".ci", "kafka-jars.sh")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// CreateTopic creates topic, with partitions partitions and one replica,
// through cl (a client under test, or [Broker.AdminClient] so that setup
// does not depend on the code under test), waiting a minute at most.
func CreateTopic(ctx context.Context, t testing.TB, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30_000
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.NoError(t, kerr.ErrorForCode(resp.Topics[0].ErrorCode), "CreateTopics %s", topic)
}
