//go:build unix

package boundedfile_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
)

func TestReadRegularFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(p, []byte("eyJ.e30.sig\n"), 0o600))
	b, err := boundedfile.Read(context.Background(), p, boundedfile.TokenLimit)
	require.NoError(t, err)
	assert.Equal(t, "eyJ.e30.sig\n", string(b))

	_, err = boundedfile.Read(context.Background(), filepath.Join(t.TempDir(), "missing"), boundedfile.TokenLimit)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// A sparse 64 MiB file costs no disk; Read must refuse it from its size.
func TestReadRefusesLargeFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "token")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(64<<20))
	require.NoError(t, f.Close())
	_, err = boundedfile.Read(context.Background(), p, boundedfile.TokenLimit)
	require.ErrorIs(t, err, boundedfile.ErrTooLarge)
	assert.ErrorContains(t, err, "67108864 bytes, more than the limit of 65536 bytes")
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for name, tc := range map[string]struct{ path, kind string }{
		"fifo":      {fifo, "named pipe (FIFO)"},
		"directory": {dir, "directory"},
		"device":    {"/dev/zero", "device"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := leakcheck.Returns(t, "Read", func() error {
				_, err := boundedfile.Read(context.Background(), tc.path, boundedfile.TokenLimit)
				return err
			})
			require.ErrorIs(t, err, boundedfile.ErrNotRegular)
			assert.ErrorContains(t, err, tc.kind)
		})
	}
}

func TestReadHonoursContext(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := boundedfile.Read(ctx, p, boundedfile.TokenLimit)
	assert.ErrorIs(t, err, context.Canceled)
}
