// Package boundedfile reads small files that sources take from paths
// (federated token files, certificates) safely: only regular files,
// through a size limit, and within the caller's context.
//
// A path configured for a token file can point at a FIFO (opening it
// blocks until a writer appears), a device (/dev/zero never ends) or a
// huge file; os.ReadFile would block forever or read it all into memory.
package boundedfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// TokenLimit is the default limit for token files: a JWT is a few
// kilobytes.
const TokenLimit = 64 << 10

// ErrNotRegular reports a path that is not a regular file (a directory,
// FIFO, socket or device).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge reports a file larger than the limit.
var ErrTooLarge = errors.New("file too large")

// Read returns the content of the regular file at path, refusing files
// larger than limit bytes without reading them. It checks ctx before
// opening and after reading; opening never blocks (a FIFO is refused, not
// waited on). Errors never quote the content, and do not name the path:
// the caller names the setting and the path.
func Read(ctx context.Context, path string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(st.Mode()); err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, tooLarge(st.Size(), limit)
	}
	// The file may grow between Stat and the read: read one byte past the
	// limit to tell.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(-1, limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

// Check fails when path does not exist or is not a regular file, and
// returns its size otherwise. It only stats the path, so it cannot block
// on a FIFO; constructors use it to fail early without reading.
func Check(path string) (size int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), regular(st.Mode())
}

func regular(m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	kind := "special file"
	switch {
	case m.IsDir():
		kind = "directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m&fs.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("%w: it is a %s", ErrNotRegular, kind)
}

func tooLarge(size, limit int64) error {
	if size < 0 {
		return fmt.Errorf("%w: it grew past the limit of %d bytes while being read", ErrTooLarge, limit)
	}
	return fmt.Errorf("%w: %d bytes, more than the limit of %d bytes", ErrTooLarge, size, limit)
}
