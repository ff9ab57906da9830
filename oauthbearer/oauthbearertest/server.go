package oauthbearertest

import (
	"net/http"
	"net/url"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/emu"
)

// Server is the HTTP server under every emulator in this package, in the
// manner of [net/http/httptest.Server]: it listens on 127.0.0.1 only,
// records the requests it receives, and injects faults queued with
// [Server.FailNext].
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234 (https:// for a
	// server that speaks TLS).
	URL string

	srv   *emu.Server
	close func()
}

func newServer(srv *emu.Server, closeFn func()) *Server {
	return &Server{URL: srv.URL, srv: srv, close: closeFn}
}

// Client returns an HTTP client that trusts the server's certificate (for
// TLS servers) and talks to it directly.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertificatePEM returns the PEM certificate a TLS server presents (its
// own CA), for a truststore or CA file; nil for plain HTTP.
func (s *Server) CertificatePEM() []byte { return s.srv.CertificatePEM() }

// Close shuts the server down, releasing hung requests, and waits for
// in-flight requests to finish. It is idempotent.
func (s *Server) Close() { s.close() }

// FailNext makes the next n requests fail as f says.
func (s *Server) FailNext(n int, f Fault) { s.srv.FailNext(n, emu.Fault(f)) }

// Requests returns every request received so far, oldest first, faulted
// or not.
func (s *Server) Requests() []Request {
	recs := s.srv.Records()
	out := make([]Request, len(recs))
	for i, r := range recs {
		out[i] = Request(r)
	}
	return out
}

// Request is one request a [Server] received. It holds no body and no
// header, so no credential.
type Request struct {
	// Method and Path are the request's method and URL path.
	Method, Path string
	// Query is the URL's query parameters (IMDS, for example, receives the
	// resource and the identity selector there).
	Query url.Values
	// Status is the reply's HTTP status: 0 until the reply starts, or for
	// a request that hung.
	Status int
}

// Fault describes how a request fails; queue it with [Server.FailNext].
// Fields combine: Latency delays whatever else happens. Every emulator
// shares this one shape.
type Fault struct {
	// Status answers with this HTTP status and Body instead of the normal
	// reply.
	Status int
	// Body is the reply body with Status. Default: a JSON error object.
	Body string
	// RetryAfter sets the Retry-After header (whole seconds) with Status.
	RetryAfter time.Duration
	// Latency delays the reply.
	Latency time.Duration
	// Hang accepts the request and never answers, until the client gives
	// up or the server closes.
	Hang bool
	// Trickle sends the normal reply one byte every Trickle.
	Trickle time.Duration
	// Malformed sends the normal reply cut in half, with status 200.
	Malformed bool
	// Oversize sends a 200 reply of this many bytes that never ends a JSON
	// value, to prove a client reads through a size limit.
	Oversize int
	// Echo answers with Status (default 400) and an error reply, in the
	// emulator's own error format, that quotes the whole request back
	// (body, form and query values, credential headers), as many identity
	// providers do. Use it to prove a client never quotes what it sent.
	Echo bool
	// Path, if set, limits the fault to requests for this URL path: other
	// requests (such as a discovery fetch before the token request) are
	// served normally and leave the fault queued.
	Path string
}

// must panics when an emulator cannot start, as httptest.NewServer does
// when it cannot listen.
func must[T any](v T, err error) T {
	if err != nil {
		panic("oauthbearertest: " + err.Error())
	}
	return v
}
