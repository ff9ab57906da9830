//go:build !unix

package boundedfile

import "os"

// open refuses what is not a regular file before opening it, since this
// platform has no non-blocking open; Read checks the opened file again.
func open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(st.Mode()); err != nil {
		return nil, err
	}
	return os.Open(path)
}
