//go:build !linux

package spiffetest

import (
	"net"
	"os"
)

// peerUID cannot read a peer's credentials on this system through the
// standard library; the emulator runs in the test's own process, so the
// caller is taken to be this process's user.
func peerUID(net.Conn) (int, error) { return os.Getuid(), nil }
