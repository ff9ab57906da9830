//go:build unix

package azure_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// unblockFIFO opens the FIFO's write end, releasing a reader blocked in
// open (the code before bounded reads), so that a failing test ends.
func unblockFIFO(t *testing.T, path string) {
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = f.Close()
		}
	})
}

func assertTokenFileError(t *testing.T, err error, path string, want ...string) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, path)
	assert.Contains(t, msg, "TokenFilePath / AZURE_FEDERATED_TOKEN_FILE")
	assert.Contains(t, msg, "#azure-federated-token-file")
	for _, w := range want {
		assert.Contains(t, msg, w)
	}
}

// Fails before bounded reads: NewWorkloadIdentity read the FIFO with
// os.ReadFile and blocked forever.
func TestWorkloadIdentityFIFOTokenFileDoesNotBlockConstruction(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	fifo := filepath.Join(t.TempDir(), "token")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	unblockFIFO(t, fifo)
	env := b.env()
	env[azure.EnvFederatedTokenFile] = fifo
	err := leakcheck.Returns(t, "NewWorkloadIdentity", func() error { _, err := azure.NewWorkloadIdentity(b.options(env)); return err })
	assertTokenFileError(t, err, fifo, "named pipe (FIFO)", "not a regular file")
}

// Fails before bounded reads: once a FIFO replaced the token file, the
// fetch blocked in os.ReadFile, ignoring its context, so every caller
// timed out and Close never returned.
func TestWorkloadIdentityFIFOSwappedInDoesNotPinTheCache(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	src, err := azure.NewWorkloadIdentity(b.options(b.env()))
	require.NoError(t, err)
	require.NoError(t, os.Remove(b.file))
	require.NoError(t, syscall.Mkfifo(b.file, 0o600))
	unblockFIFO(t, b.file)

	err = leakcheck.Returns(t, "Token", func() error { _, err := src.Token(ctx(t)); return err })
	assertTokenFileError(t, err, b.file, "named pipe (FIFO)")
	assert.False(t, oauthbearer.IsTransient(err), "retrying at once does not turn a FIFO into a file")
	require.NoError(t, leakcheck.Returns(t, "Close", src.Close))
}

// Fails before bounded reads: the 64 MiB file was read whole (twice its
// size in memory) and its content sent to Entra as the assertion.
func TestWorkloadIdentityRefusesHugeTokenFile(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	huge := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 64<<20)) // sparse: no disk used
	env := b.env()
	env[azure.EnvFederatedTokenFile] = huge
	_, err := azure.NewWorkloadIdentity(b.options(env))
	assertTokenFileError(t, err, huge, "67108864 bytes, more than the limit of 65536 bytes")

	// Swapped in after construction: refused by the fetch, not sent.
	src := opened(t)(azure.NewWorkloadIdentity(b.options(b.env())))
	require.NoError(t, os.Truncate(b.file, 64<<20))
	_, err = src.Token(ctx(t))
	assertTokenFileError(t, err, b.file, "67108864 bytes, more than the limit of 65536 bytes")
	assert.Zero(t, b.tokenRequests(), "nothing reached Entra")
}

// A file of blanks is found at the first fetch (construction does not
// read the file).
func TestWorkloadIdentityBlankTokenFile(t *testing.T) {
	t.Parallel()
	b := newWIBench(t, nil)
	require.NoError(t, os.WriteFile(b.file, []byte(" \n"), 0o600))
	src := opened(t)(azure.NewWorkloadIdentity(b.options(b.env())))
	_, err := src.Token(ctx(t))
	assertTokenFileError(t, err, b.file, "is empty")
}

// Fails before bounded reads: NewDefaultChain read a FIFO certificate path
// with os.ReadFile and blocked forever, and read a huge one whole.
func TestDefaultChainCertificateFileIsBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "cert.pem")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	unblockFIFO(t, fifo)
	huge := filepath.Join(dir, "huge.pem")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 64<<20))
	for name, tc := range map[string]struct{ path, want string }{
		"fifo": {fifo, "named pipe (FIFO)"},
		"huge": {huge, "67108864 bytes, more than the limit of 1048576 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{azure.EnvTenantID: wiTenant, azure.EnvClientID: wiClient, "AZURE_CLIENT_CERTIFICATE_PATH": tc.path}
			src := leakcheck.Returns(t, "NewDefaultChain", func() *oauthbearer.Cache {
				src, err := azure.NewDefaultChain(&azure.DefaultChainOptions{Audience: "api://kafka", Getenv: getenv(env), DisableAzureCLI: true})
				require.NoError(t, err)
				return src
			})
			t.Cleanup(func() { _ = src.Close() })
			_, err := src.Token(ctx(t))
			require.Error(t, err)
			for _, w := range []string{tc.path, "AZURE_CLIENT_CERTIFICATE_PATH", tc.want, "#azure-certificate-file"} {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
