package spiffetest

import (
	"context"
	"errors"
	"net"

	"google.golang.org/grpc/credentials"
)

// peerCreds attests callers as SPIRE's agent does: from the kernel's
// credentials of the socket's peer, read when the connection is accepted.
// It adds no transport security (a unix socket needs none), so clients
// connect with insecure credentials, as go-spiffe's do.
type peerCreds struct{}

type authInfo struct {
	uid int
	err error
}

func (authInfo) AuthType() string { return "peercred" }

func (peerCreds) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uid, err := peerUID(c)
	return c, authInfo{uid: uid, err: err}, nil
}

func (peerCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("spiffetest: peer credentials are for the server side")
}

func (peerCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (peerCreds) Clone() credentials.TransportCredentials { return peerCreds{} }

func (peerCreds) OverrideServerName(string) error { return nil }
