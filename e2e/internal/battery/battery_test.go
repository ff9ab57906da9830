package battery

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/saidcheck"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Bounds of the cells. fetchTimeout is the cache's fetch deadline and
// the caller's context; a cell that has not returned grace after it hung.
const (
	fetchTimeout = 2 * time.Second
	grace        = 5 * time.Second
	// maxServed bounds what an endless body may have made the server
	// write: the client's read limit plus socket buffers, far below it.
	maxServed = 64 << 20
	// hugeFile is the size of the sparse huge file; maxAlloc what a cell
	// may allocate while a source meets it.
	hugeFile = 512 << 20
	maxAlloc = 256 << 20
	// abandonWait is how long after a fetch returns its requests may
	// still be open.
	abandonWait = 5 * time.Second
)

// defaultDials counts dials through http.DefaultTransport, which TestMain
// replaces with one that refuses anything but loopback: a source that
// ignores the caller's client must still not reach the network.
var defaultDials atomic.Int64

func TestMain(m *testing.M) {
	// Cells mostly wait (on servers, deadlines and child processes): run
	// more of them at once than GOMAXPROCS, unless -parallel says.
	flag.Parse()
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = flag.Set("test.parallel", "8")
	}
	var d net.Dialer
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "127.0.0.1" && h != "::1" && h != "localhost" {
			defaultDials.Add(1)
			return nil, errors.New("battery: the default transport refuses to dial " + addr)
		}
		return d.DialContext(ctx, network, addr)
	}
	http.DefaultTransport = tr
	os.Exit(m.Run())
}

// netCase is one answer of the hostile host to a source's credential
// request.
type netCase struct {
	name  string
	mode  mode
	check func(t *testing.T, h *host)
}

func netCases() []netCase {
	cs := []netCase{
		{name: "echo in JSON error fields", mode: echoJSONError},
		{name: "echo in XML error fields", mode: echoXMLError},
		{name: "echo in a text error body", mode: echoText},
		{name: "echo in the fields of a 200 reply", mode: echoReplyFields},
		{name: "echo in reply headers", mode: echoHeaders},
		{name: "endless body", mode: endless, check: func(t *testing.T, h *host) {
			assert.Less(t, h.wrote.Load(), int64(maxServed), "the source read the endless body far past any limit")
		}},
		{name: "slow body, 1 byte/50ms forever", mode: slow},
	}
	for _, st := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, to := range []struct{ name, scheme, host string }{
			{"to another host", "https", redirecttest.TrapHost},
			{"to plain http on the same host", "http", redirecttest.IdPHost},
		} {
			cs = append(cs, netCase{name: http.StatusText(st) + " " + to.name, mode: redirectTo(st, to.scheme, to.host), check: func(t *testing.T, h *host) {
				assert.Empty(t, h.b.Received(), "the redirect was followed")
			}})
		}
	}
	return cs
}

// fileKind is a hostile file: make returns its path, and a function that
// unblocks a reader stuck on it.
type fileKind struct {
	name string
	make func(t *testing.T) (path string, unblock func())
}

// fileKinds are the hostile files every file option meets.
var fileKinds = []fileKind{
	{"FIFO", func(t *testing.T) (string, func()) { return fifo(t) }},
	{"/dev/zero", func(t *testing.T) (string, func()) { return "/dev/zero", func() {} }},
	{"symlink to a FIFO", func(t *testing.T) (string, func()) {
		p, unblock := fifo(t)
		return symlink(t, p), unblock
	}},
	{"symlink to /dev/zero", func(t *testing.T) (string, func()) { return symlink(t, "/dev/zero"), func() {} }},
	{"socket nobody listens on", func(t *testing.T) (string, func()) { return spiffeUnlistened(t), func() {} }},
	{"huge sparse file", func(t *testing.T) (string, func()) {
		p := filepath.Join(t.TempDir(), "huge")
		f, err := os.Create(p)
		require.NoError(t, err)
		_, err = f.WriteString(subjectJWT)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(hugeFile))
		require.NoError(t, f.Close())
		return p, func() {}
	}},
}

func fifo(t *testing.T) (string, func()) {
	p := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	return p, func() {
		// A writer that opens and closes gives a blocked reader EOF; with
		// O_NONBLOCK the open fails, harmlessly, when nobody reads.
		for range 50 {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = f.Close()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func symlink(t *testing.T, to string) string {
	p := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(to, p))
	return p
}

// newEnv is a cell's collector, cache options and host (m nil: none).
func newEnv(t *testing.T, m mode) *env {
	c := saidcheck.New()
	e := &env{c: c, co: &oauthbearer.CacheOptions{Logger: c.Log, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		FetchTimeout: fetchTimeout}}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	t.Cleanup(cancel)
	e.ctx = ctx
	if m != nil {
		e.h = newHost(t, c, m)
	}
	return e
}

// fetch builds a source and fetches one token, under fetchTimeout; it
// fails the cell if that does not end within grace of the deadline
// (calling unblock first, so the test can go on). It collects the error
// and the source's printed forms and closes the source.
func fetch(t *testing.T, e *env, build func() (source, error), unblock func()) error {
	t.Helper()
	type result struct {
		src source
		err error
	}
	done := make(chan result, 1)
	go func() {
		src, err := build()
		if err != nil {
			src = nil // a typed nil pointer
		} else {
			var tok oauthbearer.Token
			tok, err = src.Token(e.ctx)
			e.c.Secret("token handed out", tok.Value)
		}
		done <- result{src, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(fetchTimeout + grace):
		if unblock != nil {
			unblock()
		}
		t.Fatalf("the constructor or the fetch still runs %v after the fetch's %v deadline", grace, fetchTimeout)
	}
	e.c.Err(r.err)
	if r.src != nil {
		e.c.Value(r.src)
		if cl, ok := r.src.(io.Closer); ok {
			assert.NoError(t, cl.Close())
		}
	}
	return r.err
}

// TestBattery runs the network cells, the plain-http-endpoint cells that
// set no process environment variable and the file cells (each in a
// child process) of every entry, in parallel.
func TestBattery(t *testing.T) {
	for _, en := range table {
		t.Run(en.name, func(t *testing.T) {
			parallel(t)
			if en.net != nil {
				for _, nc := range netCases() {
					t.Run(nc.name, func(t *testing.T) {
						parallel(t)
						e := newEnv(t, nc.mode)
						err := fetch(t, e, func() (source, error) { return en.net(t, e) }, nil)
						require.Error(t, err, "a hostile reply gave a token")
						require.NotZero(t, e.h.reqs.Load(), "the source never reached the hostile endpoint, so the cell proves nothing: %.300v", err)
						assert.True(t, e.h.abandoned(abandonWait), "a request of the fetch still runs %v after the fetch returned", abandonWait)
						if nc.check != nil {
							nc.check(t, e.h)
						}
						e.c.Check(t)
					})
				}
			}
			for _, s := range en.endpoints {
				if !s.osEnv {
					t.Run("plain http from "+s.name, func(t *testing.T) {
						parallel(t)
						plainHTTPCell(t, s)
					})
				}
			}
			for _, s := range en.files {
				t.Run(s.name, func(t *testing.T) {
					parallel(t)
					fileCells(t, s)
				})
			}
			for _, ac := range en.agent {
				t.Run(ac.name, func(t *testing.T) {
					parallel(t)
					e := newEnv(t, echoJSONError)
					err := fetch(t, e, func() (source, error) { return ac.build(t, e) }, nil)
					require.Error(t, err, "a hostile agent gave a token")
					t.Logf("error: %.240v", err)
					if ac.reaches {
						require.NotZero(t, e.h.reqs.Load(), "the source never reached the hostile host, so the cell proves nothing: %.300v", err)
						assert.True(t, e.h.abandoned(abandonWait), "a request of the fetch still runs %v after the fetch returned", abandonWait)
					}
					e.c.Check(t)
				})
			}
			if en.value != nil {
				t.Run("encoders", func(t *testing.T) {
					e := newEnv(t, nil)
					e.c.Value(en.value(t, e))
					e.c.Check(t)
				})
			}
		})
	}
}

// TestBatteryEnv runs the plain-http-endpoint cells that set process
// environment variables, one at a time.
func TestBatteryEnv(t *testing.T) {
	for _, en := range table {
		t.Run(en.name, func(t *testing.T) {
			for _, s := range en.endpoints {
				if s.osEnv {
					t.Run("plain http from "+s.name, func(t *testing.T) { plainHTTPCell(t, s) })
				}
			}
		})
	}
}

// plainHTTPCell names a plain-http endpoint on a non-loopback address
// with setting s: the constructor or the fetch must refuse it before
// dialling.
func plainHTTPCell(t *testing.T, s setting) {
	e := newEnv(t, echoJSONError)
	before := defaultDials.Load()
	err := fetch(t, e, func() (source, error) { return s.build(t, e, "http://"+offMachine) }, nil)
	require.Error(t, err, "a plain-http endpoint on %s gave a token", offMachine)
	t.Logf("error: %.240v", err)
	assert.Zero(t, e.h.dials.Load(), "the source dialled %s through the caller's client", offMachine)
	assert.Equal(t, before, defaultDials.Load(), "the source dialled a non-loopback address through http.DefaultTransport")
	assert.Zero(t, e.h.reqs.Load(), "a request reached the identity endpoint")
	e.c.Check(t)
}

// parallel marks t parallel, except in a file cells' child process,
// which runs the cells of one setting, which may t.Setenv.
func parallel(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Parallel()
	}
}

// fileCells points file option s at every hostile file. The cells run in
// a child process (the test binary, running only this setting's cells),
// so that a source that reads /dev/zero without bound or blocks on a FIFO
// forever takes down the child, not the battery: the child exits as soon
// as its heap passes maxHeap. The parent reports each cell by the
// child's verdict.
func fileCells(t *testing.T, s setting) {
	if os.Getenv(childEnv) != "" {
		go watchHeap()
		for _, k := range fileKinds {
			t.Run(k.name, func(t *testing.T) { fileCell(t, s, k.make) })
		}
		return
	}
	// A child that dies (a heap past maxHeap) leaves the later cells
	// unrun: run those again in a new child, until every cell has run.
	outs := map[string]string{}
	left := fileKinds
	for len(left) > 0 {
		var names []string
		for _, k := range left {
			names = append(names, "^"+regexp.QuoteMeta(strings.ReplaceAll(k.name, " ", "_"))+"$")
		}
		out := runChild(t, strings.Join(names, "|"))
		var next []fileKind
		for _, k := range left {
			cell := t.Name() + "/" + strings.ReplaceAll(k.name, " ", "_")
			if ran(out, cell) {
				outs[k.name] = out
			} else {
				next = append(next, k)
			}
		}
		if len(next) == len(left) {
			for _, k := range left {
				outs[k.name] = out
			}
			break
		}
		left = next
	}
	for _, k := range fileKinds {
		t.Run(k.name, func(t *testing.T) {
			if out := outs[k.name]; !strings.Contains(out, "--- PASS: "+t.Name()+" ") {
				t.Errorf("the cell failed in its child process:\n%s", childFailure(out, t.Name()))
			}
		})
	}
}

// ran reports whether the child whose output is out started cell.
func ran(out, cell string) bool {
	return strings.Contains(out, "=== RUN   "+cell+"\n")
}

// fileCell points file option s at a hostile file: the constructor or
// the fetch must fail within the fetch's deadline, having read little.
func fileCell(t *testing.T, s setting, mk func(*testing.T) (string, func())) {
	currentCell.Store(t.Name())
	e := newEnv(t, echoJSONError)
	p, unblock := mk(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc := ms.TotalAlloc
	err := fetch(t, e, func() (source, error) { return s.build(t, e, p) }, unblock)
	require.Error(t, err, "a hostile file gave a token")
	t.Logf("error: %.240v", err)
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.TotalAlloc-alloc, uint64(maxAlloc), "the source read the file whole")
	e.c.Check(t)
}

// childEnv marks the child process of a file cell.
const childEnv = "BATTERY_FILE_CELL_CHILD"

// maxHeap is the heap at which a file cell's child gives up: only a
// source reading a device or huge file without bound gets there.
const maxHeap = 1 << 30

// runChild runs the current test alone in a child process, its subtests
// matching sub, and returns the child's output.
func runChild(t *testing.T, sub string) string {
	t.Helper()
	var pat []string
	for _, el := range strings.Split(t.Name(), "/") {
		pat = append(pat, "^"+regexp.QuoteMeta(el)+"$")
	}
	pat = append(pat, sub)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(fileKinds))*(fetchTimeout+grace)+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+strings.Join(pat, "/"), "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		out = append(out, fmt.Sprintf("\n(the child process: %v)", err)...)
	}
	return string(out)
}

// childFailure says why cell failed in the child whose output is out:
// its own log lines, the heap watch's verdict, or that it never ran
// (the child died at an earlier cell).
func childFailure(out, cell string) string {
	var keep []string
	in, ran := false, false
	for _, l := range strings.Split(out, "\n") {
		tl := strings.TrimSpace(l)
		if strings.HasPrefix(tl, "=== HEAP  "+cell+":") {
			keep = append(keep, strings.TrimPrefix(tl, "=== HEAP  "))
			continue
		}
		if strings.HasPrefix(tl, "(the child process:") {
			continue
		}
		if strings.HasPrefix(tl, "=== ") {
			in = strings.HasSuffix(tl, " "+cell)
			ran = ran || in
			continue
		}
		if strings.HasPrefix(tl, "--- ") && strings.Contains(tl, " "+cell+" (") {
			ran = true
			continue
		}
		if in && tl != "" && !strings.Contains(l, "checked ") && !strings.HasPrefix(tl, "--- ") && tl != "FAIL" {
			keep = append(keep, l)
		}
	}
	if !ran {
		keep = append(keep, "the cell never ran: the child process ended at an earlier cell")
	}
	if i := strings.LastIndex(out, "(the child process:"); i >= 0 {
		keep = append(keep, out[i:])
	}
	return strings.Join(keep, "\n")
}

// currentCell is the file cell a child process runs now.
var currentCell atomic.Value

// watchHeap ends the child process when its heap passes maxHeap.
func watchHeap() {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for {
		metrics.Read(s)
		if s[0].Value.Uint64() > maxHeap {
			fmt.Fprintf(os.Stderr, "\n=== HEAP  %s: the heap passed %d MiB: the source reads the file without bound\n", currentCell.Load(), maxHeap>>20)
			os.Exit(3)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBatteryClose closes every source while its fetch is blocked: the
// fetch returns, and no goroutine is left once the cell's servers have
// stopped. Cells run one at a time, so that goroutines are the cell's.
func TestBatteryClose(t *testing.T) {
	for _, en := range table {
		if en.net == nil && en.blocked == nil {
			continue
		}
		t.Run(en.name, func(t *testing.T) {
			before := leakcheck.Current()
			t.Run("fetch", func(t *testing.T) {
				e := newEnv(t, hang)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var (
					src     source
					arrived <-chan struct{}
					err     error
				)
				if en.blocked != nil {
					e.ctx = ctx
					src, arrived, err = en.blocked(t, e)
				} else {
					e.co.FetchTimeout = time.Minute
					e.ctx = ctx
					src, err = en.net(t, e)
					arrived = e.h.arrived()
				}
				require.NoError(t, err)
				done := make(chan error, 1)
				go func() {
					_, err := src.Token(ctx)
					done <- err
				}()
				select {
				case <-arrived:
				case err := <-done:
					t.Fatalf("the fetch ended before blocking: %v", err)
				case <-time.After(grace):
					t.Fatal("the fetch never reached the blocking endpoint")
				}
				cl, ok := src.(io.Closer)
				require.True(t, ok, "%s returns a source without Close", en.name)
				closed := make(chan error, 1)
				go func() { closed <- cl.Close() }()
				select {
				case err := <-closed:
					assert.NoError(t, err)
				case <-time.After(grace):
					t.Fatal("Close did not return while a fetch was blocked")
				}
				select {
				case err := <-done:
					require.Error(t, err)
					e.c.Err(err)
				case <-time.After(grace):
					t.Fatal("the blocked fetch did not return after Close")
				}
				if e.h != nil {
					assert.True(t, e.h.abandoned(abandonWait), "the blocked request still runs %v after Close returned", abandonWait)
				}
				e.c.Value(src)
				e.c.Check(t)
			})
			leakcheck.VerifyNone(t, before)
		})
	}
}
