//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const opsDir = "../../plugin/kwiprom/ops"

// TestPromtoolRules: the alerting rules are valid, and their unit tests
// (each alert firing on a recorded failure series, silent on a healthy
// one) pass, with the promtool of Debian's prometheus package.
func TestPromtoolRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	require.NoError(t, err, "promtool is not on PATH: install Debian's prometheus package (.ci/run does)")
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(opsDir, "alerts.yml")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SUCCESS: 3 rules found")
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	cmd.Dir = opsDir
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SUCCESS")
}

// TestRealPrometheusScrapesTheExample starts a real Prometheus on
// loopback scraping the example program (with the alerting rules loaded)
// and finds the expected series with sane values through its HTTP API.
func TestRealPrometheusScrapesTheExample(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	require.NoError(t, err, "prometheus is not on PATH: install Debian's prometheus package (.ci/run does)")
	addr, done, out := startExample(t, config{records: 2, rounds: 1, linger: 3 * time.Minute, reject: true})
	waitFor(t, done, out, "serving metrics for")

	dir := t.TempDir()
	rules, err := filepath.Abs(filepath.Join(opsDir, "alerts.yml"))
	require.NoError(t, err)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - %q\nscrape_configs:\n  - job_name: kwi\n    static_configs:\n      - targets: [%q]\n", rules, addr)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	promAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Log("prometheus:\n" + logs.String())
		}
	})

	query := func(q string) []float64 {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct{ Value [2]any }
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" {
			return nil
		}
		var vs []float64
		for _, s := range r.Data.Result {
			v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
			vs = append(vs, v)
		}
		return vs
	}
	eventually := func(q string) []float64 {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if vs := query(q); len(vs) > 0 {
				return vs
			}
			require.True(t, time.Now().Before(deadline), "no series for %s", q)
			time.Sleep(250 * time.Millisecond)
		}
	}
	assert.Equal(t, []float64{1}, eventually(`up{job="kwi"}`))
	life := eventually(`kwi_token_remaining_lifetime_seconds{source="orders",kind="azure managed identity"}`)
	assert.Len(t, life, 1)
	assert.Greater(t, life[0], 60.0, "the served token has life left")
	assert.LessOrEqual(t, life[0], 24*3600.0)
	assert.Equal(t, []float64{0}, eventually(`kwi_token_consecutive_failures{source="orders"}`))
	fetches := eventually(`sum(kwi_token_fetches_total{source="orders",outcome="success"})`)
	assert.GreaterOrEqual(t, fetches[0], 1.0)
	assert.LessOrEqual(t, fetches[0], 3.0, "one cached token serves every connection")
	assert.GreaterOrEqual(t, eventually(`sum(kwi_token_rejections_total{source="billing",adapter="franzsasl",status="invalid_token"})`)[0], 1.0)
	assert.GreaterOrEqual(t, eventually(`sum(kwi_token_invalidations_total{source="billing"})`)[0], 1.0)
	dur := eventually(`sum(kwi_token_fetch_duration_seconds_sum{source="orders"}) / sum(kwi_token_fetch_duration_seconds_count{source="orders"})`)
	assert.Greater(t, dur[0], 0.0)
	assert.Less(t, dur[0], 30.0)
	// Every dashboard query is valid PromQL that this Prometheus answers.
	b, err := os.ReadFile(filepath.Join(opsDir, "dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			q := strings.ReplaceAll(tg.Expr, "$__rate_interval", "1m")
			resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
			require.NoError(t, err)
			var r struct{ Status, Error string }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
			_ = resp.Body.Close()
			assert.Equal(t, "success", r.Status, "panel %q: %s: %s", p.Title, q, r.Error)
		}
	}

	// The rules loaded and evaluate without error.
	resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
	require.NoError(t, err)
	defer resp.Body.Close()
	var loaded struct {
		Data struct {
			Groups []struct {
				Rules []struct{ Name, Health string }
			}
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&loaded))
	require.Len(t, loaded.Data.Groups, 1)
	require.Len(t, loaded.Data.Groups[0].Rules, 3)
	for _, r := range loaded.Data.Groups[0].Rules {
		assert.NotEqual(t, "err", r.Health, r.Name)
	}
}
