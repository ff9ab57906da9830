package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"net"
	"net/http"

	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
)

// startExample runs the program in-process on a loopback port and
// returns its address and the channel its result arrives on.
func startExample(t *testing.T, cfg config) (string, <-chan error, *syncbuf.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	out := &syncbuf.Buffer{}
	result := make(chan error, 1)
	go func() {
		err := run(ctx, out, ln, cfg)
		result <- err
		done <- err
	}()
	t.Cleanup(func() { cancel(); <-result })
	return ln.Addr().String(), done, out
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestExampleServesMetrics runs the example (two rounds and a rejected
// client) and reads its /metrics while it lingers.
func TestExampleServesMetrics(t *testing.T) {
	addr, done, out := startExample(t, config{records: 2, rounds: 2, every: time.Millisecond, linger: time.Minute, reject: true})
	waitFor(t, done, out, "serving metrics for")
	body := scrape(t, addr)
	t.Log(body)
	for _, want := range []string{
		`kwi_token_fetches_total{error_type="",kind="azure managed identity",mode="wait",outcome="success",source="orders"} 1`,
		`kwi_token_rejections_total{adapter="franzsasl",kind="azure managed identity",source="billing",status="invalid_token"}`,
		`kwi_token_invalidations_total{kind="azure managed identity",source="billing"}`,
		`kwi_token_consecutive_failures{kind="azure managed identity",source="orders"} 0`,
		`kwi_token_fetch_duration_seconds_count{kind="azure managed identity",outcome="success",source="orders"} 1`,
	} {
		assert.Contains(t, body, want)
	}
	assert.Regexp(t, `kwi_token_remaining_lifetime_seconds\{kind="azure managed identity",source="orders"\} \d{3,}`, body)
	assert.NotContains(t, body, "eyJ", "no token in the metrics")
}

func waitFor(t *testing.T, done <-chan error, out interface{ String() string }, s string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), s) {
		select {
		case err := <-done:
			t.Fatalf("the example ended: %v\n%s", err, out)
		default:
		}
		require.True(t, time.Now().Before(deadline), out.String())
		time.Sleep(20 * time.Millisecond)
	}
}
