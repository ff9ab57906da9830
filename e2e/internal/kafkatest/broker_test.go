//go:build unix

package kafkatest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckJWKS(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`<html>`)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(mux)
	closed.Close()

	cases := map[string]struct {
		url     string
		wantErr string
	}{
		"serving":       {url: srv.URL + "/jwks"},
		"not a JWKS":    {url: srv.URL + "/html", wantErr: "without a JWKS"},
		"404":           {url: srv.URL + "/nope", wantErr: "404 Not Found without a JWKS"},
		"not reachable": {url: closed.URL + "/jwks", wantErr: "is not reachable"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := checkJWKS(tc.url)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.ErrorContains(t, err, tc.url)
		})
	}
}

func TestFreePortsDistinct(t *testing.T) {
	t.Parallel()
	p, err := freePorts()
	require.NoError(t, err)
	assert.NotZero(t, p.client)
	assert.NotEqual(t, p.client, p.admin)
	assert.NotEqual(t, p.admin, p.controller)
	assert.NotEqual(t, p.client, p.controller)
}

func TestScriptPathFindsRepoScript(t *testing.T) {
	t.Parallel()
	assert.FileExists(t, scriptPath(), "tests in this repository fetch the jars with .ci/kafka-jars.sh")
}

// TestLogSince checks marks and redaction on a log file, without a JVM.
func TestLogSince(t *testing.T) {
	t.Parallel()
	b := &Broker{logPath: filepath.Join(t.TempDir(), "broker.log")}
	assert.Zero(t, b.LogMark(), "no log yet")
	require.NoError(t, os.WriteFile(b.logPath, []byte("started\n"), 0o600))
	mark := b.LogMark()
	assert.EqualValues(t, len("started\n"), mark)
	f, err := os.OpenFile(b.logPath, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("rejected eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	assert.Equal(t, "rejected <JWT redacted>\n", b.LogSince(mark))
	assert.Equal(t, "started\nrejected <JWT redacted>\n", b.LogSince(0))
	assert.Empty(t, b.LogSince(1<<40), "a mark past the end gives nothing")
}
