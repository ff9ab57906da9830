package idptest

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the HTTP server under every emulator in this package. It
// listens on 127.0.0.1 only, records every request (see [Request]), and
// injects faults queued with [Server.FailNext].
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234 (https:// for
	// servers that speak TLS).
	URL string

	format  errorFormat
	hs      *httptest.Server
	reroute []string // hosts that Client sends to this server
	onClose []func() // run after the server closed
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	faults   []Fault
	requests []Request
}

// Request is one request an emulator received, faulted or not, as
// [Server.Requests] returns it. Method, Path, Query and Status are
// filled for every request; the other fields hold what the emulator
// understood of it and are zero where they do not apply.
//
// Token and Assertion are credentials, kept so that tests can check
// them: a test must not log them.
type Request struct {
	// Method and Path are the request's HTTP method and URL path.
	Method, Path string
	// Query is the URL's query parameters.
	Query url.Values
	// Status is the reply's HTTP status, 0 until the reply starts (or
	// for a request that hung).
	Status int
	// Error is the error code answered, "" on success: the OAuth
	// "error" (Entra, IMDS, OAuthServer, ConfluentSTS, GCE's token
	// endpoint), the STS error Code, or for the SchemaRegistry why it
	// refused the request with 401 (or the registry's error_code, such
	// as "40401"). Faults with a Code record it.
	Error string

	// TenantID is the tenant of the request (Entra) or of the token
	// (IMDS).
	TenantID string
	// ClientID is the client_id (Entra), the identity's client ID
	// (IMDS), or the authenticated client, the jwt-bearer assertion's
	// issuer for that grant (OAuthServer).
	ClientID string
	// Subject is the "sub" of the issued token (Entra and IMDS: the
	// app's or identity's object ID; OAuthServer), of the verified
	// subject token (ConfluentSTS) or of the verified bearer token
	// (SchemaRegistry).
	Subject string
	// Scope is the scope requested: the form's scope (Entra,
	// OAuthServer) or the metadata server's scopes, comma-separated as
	// sent (GCE access tokens).
	Scope string
	// Resource is the resource a token was requested for: the query's
	// resource as received (IMDS), or the resource of the scope
	// "<resource>/.default" (Entra).
	Resource string
	// Audience is the audience requested: GCE ID tokens' audience, STS's
	// Audience members.
	Audience []string
	// Kind is what a GCE request asked for: "access" (an access token)
	// or "identity" (an ID token).
	Kind string
	// IdentityPoolID is the identity_pool_id (ConfluentSTS) or the
	// Confluent-Identity-Pool-Id header (SchemaRegistry).
	IdentityPoolID string
	// LogicalCluster is the target-sr-cluster header (SchemaRegistry).
	LogicalCluster string
	// AccessKeyID and Region are the STS request's SigV4 credential
	// scope, once it is authenticated.
	AccessKeyID, Region string
	// SigningAlgorithm, DurationSeconds (300 when not sent) and Tags are
	// STS's GetWebIdentityToken parameters, once validated.
	SigningAlgorithm string
	DurationSeconds  int
	Tags             map[string]string
	// SessionToken reports whether an STS request carried
	// X-Amz-Security-Token.
	SessionToken bool
	// Assertion is the assertion received: the client_assertion (Entra,
	// OAuthServer), the jwt-bearer grant's assertion (OAuthServer, GCE's
	// token endpoint) or the subject_token (ConfluentSTS). A credential.
	Assertion string
	// Token is the token issued, if any (every emulator that issues
	// tokens). A credential.
	Token string
}

// Requests returns every request received so far, oldest first, as deep
// copies.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Query = maps.Clone(out[i].Query)
		out[i].Audience = slices.Clone(out[i].Audience)
		out[i].Tags = maps.Clone(out[i].Tags)
	}
	return out
}

// Issued returns the requests answered with a token (Request.Token set),
// oldest first, as deep copies: how many tokens the emulator issued, and
// to whom, is what most tests of a refreshing source check.
func (s *Server) Issued() []Request {
	return slices.DeleteFunc(s.Requests(), func(r Request) bool { return r.Token == "" })
}

// statusWriter notes the reply's status in the server's record i when
// the reply starts, before the client can see it. Handlers reach the
// record through it (see note).
type statusWriter struct {
	http.ResponseWriter
	s    *Server
	i    int
	done bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.s.mu.Lock()
		w.s.requests[w.i].Status = code
		w.s.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets a trickled reply reach the client byte by byte.
func (w *statusWriter) Flush() {
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// note records what the emulator understood of the request that w
// answers, with f, in the request's [Request].
func note(w http.ResponseWriter, f func(*Request)) {
	sw, ok := w.(*statusWriter)
	if !ok {
		return
	}
	sw.s.mu.Lock()
	defer sw.s.mu.Unlock()
	f(&sw.s.requests[sw.i])
}

// noteError records the error code w answers with.
func noteError(w http.ResponseWriter, code string) {
	note(w, func(r *Request) { r.Error = code })
}

// Fault describes how the next request fails. Fields combine: Latency
// delays whatever else happens.
type Fault struct {
	// Status answers with this HTTP status and Body instead of the normal
	// reply (default 400 when Code is set).
	Status int
	// Code and Message, when Code is set, make the reply an error in the
	// emulator's own format: the OAuth JSON "error" and
	// "error_description" (OAuthServer, ConfluentSTS, IMDS, GCE's token
	// endpoint), Entra's JSON error (Message is the error_description,
	// which Entra starts with the AADSTS code), the STS XML
	// <ErrorResponse> with Type, Code and Message, Schema Registry's
	// JSON {"error_code", "message"} (error_code is Code when it is a
	// number, else Status; 401 replies carry WWW-Authenticate), or the
	// GCE metadata server's text (Message). Example: STS throttling is
	// Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"}.
	Code, Message string
	// Body is the reply body with Status, when Code is empty. Default: a
	// JSON object {"error":"injected_fault", ...}.
	Body string
	// RetryAfter sets the Retry-After header (whole seconds) with Status
	// or Code.
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
	// value, to prove clients read through a size limit.
	Oversize int
	// Echo answers with Status (default 400) and an error reply that
	// quotes the whole request back, as many identity providers do in
	// error_description: the raw body, the decoded form and query values
	// and the credential headers (Authorization, X-Amz-Security-Token).
	// The reply is in the emulator's own error format, as with Code. Use
	// it to prove a client never quotes what it sent.
	Echo bool
	// Path, if set, limits the fault to requests for this URL path: other
	// requests (such as an OpenID discovery fetch before the token
	// request) are served normally and leave the fault queued.
	Path string
}

// errorFormat is the shape of an emulator's error replies.
type errorFormat int

const (
	formatOAuth errorFormat = iota // RFC 6749 JSON, no-store
	formatEntra
	formatIMDS
	formatGCE
	formatSTS
	formatSchemaRegistry
)

// serverConfig says how startServer starts a server.
type serverConfig struct {
	format  errorFormat
	tls     bool
	tlsConf *tls.Config // client certificate verification; httptest adds its certificate
	reroute []string
}

// startServer starts h on 127.0.0.1.
func startServer(h http.Handler, c serverConfig) (*Server, error) {
	// Listening here rather than in httptest.NewUnstartedServer, which
	// panics when it cannot, makes a listen failure the error the TB
	// reports (and keeps the emulators off [::1], its fallback).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("could not listen on 127.0.0.1: %w", err)
	}
	s := &Server{format: c.format, reroute: c.reroute, closing: make(chan struct{})}
	s.hs = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.wrap(h)}, TLS: c.tlsConf}
	if c.tls || c.tlsConf != nil {
		s.hs.StartTLS()
	} else {
		s.hs.Start()
	}
	s.URL = s.hs.URL
	return s, nil
}

// startWithSigner starts h (see startServer) with signer, or when it is
// nil with an Issuer of its own (configured by ownOpts) that the server
// closes.
func startWithSigner(h http.Handler, c serverConfig, signer *Issuer, ownOpts IssuerOptions) (*Server, *Issuer, error) {
	own := signer == nil
	if own {
		var err error
		if signer, err = startIssuer(ownOpts); err != nil {
			return nil, nil, err
		}
	}
	srv, err := startServer(h, c)
	if err != nil {
		if own {
			signer.Close()
		}
		return nil, nil, err
	}
	if own {
		srv.onClose = append(srv.onClose, signer.Close)
	}
	return srv, signer, nil
}

// CertificatePEM returns the PEM of the certificate a TLS server presents
// (self-signed: it is its own CA), for a truststore or CA file; nil for a
// plain HTTP server.
func (s *Server) CertificatePEM() []byte {
	c := s.hs.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Client returns an HTTP client that trusts the server's certificate
// (for TLS servers) and talks to it directly. For [IMDS] and [GCE] it
// also routes requests for the metadata server's fixed addresses
// (169.254.169.254; metadata.google.internal for GCE), any port, to the
// emulator; other hosts are reached normally. An *http.Client satisfies
// azcore's policy.Transporter, so it can be azidentity's
// ClientOptions.Transport.
func (s *Server) Client() *http.Client {
	if len(s.reroute) == 0 {
		return s.hs.Client()
	}
	target, _ := url.Parse(s.URL)
	return &http.Client{Transport: &rerouter{hosts: s.reroute, target: target, base: s.hs.Client().Transport}}
}

// rerouter sends requests for hosts to target.
type rerouter struct {
	hosts  []string
	target *url.URL
	base   http.RoundTripper
}

// NoMetadataProxy declares to the credential gate (internal/idphttp)
// that this transport, which stands for the network, sends metadata
// requests without a proxy.
func (r *rerouter) NoMetadataProxy() {}

func (r *rerouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if slices.Contains(r.hosts, req.URL.Hostname()) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
		req.Host = r.target.Host
	}
	base := r.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Close shuts the server down, releasing hung requests, and waits for
// in-flight requests to finish; then it closes what the emulator
// started with it (its own signer). It is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.CloseClientConnections()
		s.hs.Close()
		for _, f := range s.onClose {
			f()
		}
	})
}

// FailNext makes the next n requests (for f.Path, if set) fail as f
// says.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// ClearFaults drops the faults still queued: the end of an outage that
// FailNext began with more faults than the client would meet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Path == "" || f.Path == path {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return f, true
		}
	}
	return Fault{}, false
}

func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
		w := &statusWriter{ResponseWriter: rw, s: s, i: len(s.requests) - 1}
		s.mu.Unlock()
		f, ok := s.nextFault(r.URL.Path)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if f.Latency > 0 && !s.sleep(r, f.Latency) {
			return
		}
		switch {
		case f.Hang:
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
		case f.Echo:
			s.echo(w, r, cmp.Or(f.Status, http.StatusBadRequest))
		case f.Code != "":
			retryAfter(w, f.RetryAfter)
			s.writeError(w, r, cmp.Or(f.Status, http.StatusBadRequest), f.Code, f.Message)
		case f.Status != 0:
			retryAfter(w, f.RetryAfter)
			body := f.Body
			if body == "" {
				noteError(w, "injected_fault")
				body = fmt.Sprintf(`{"error":"injected_fault","error_description":"injected status %d"}`, f.Status)
			}
			if strings.HasPrefix(strings.TrimSpace(body), "<") {
				w.Header().Set("Content-Type", "text/xml")
			} else {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(body))
		case f.Oversize > 0:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"access_token":"`))
			chunk := bytes.Repeat([]byte("A"), 32<<10)
			for n := 0; n < f.Oversize; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case f.Malformed || f.Trickle > 0:
			rec := httptest.NewRecorder()
			// The handler notes what it understood through an inner
			// writer on the same record; the outer one notes the status
			// actually sent.
			h.ServeHTTP(&statusWriter{ResponseWriter: rec, s: s, i: w.i}, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			body := rec.Body.Bytes()
			if f.Malformed {
				body = body[:len(body)/2]
				w.Header().Del("Content-Length")
				w.WriteHeader(http.StatusOK)
			} else {
				w.WriteHeader(rec.Code)
			}
			if f.Trickle == 0 {
				_, _ = w.Write(body)
				return
			}
			for _, b := range body {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.Flush()
				if !s.sleep(r, f.Trickle) {
					return
				}
			}
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// writeError answers an error with code and message in the emulator's
// format, and records the code.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	switch s.format {
	case formatSTS:
		stsWriteError(w, status, code, message)
	case formatSchemaRegistry:
		n, err := strconv.Atoi(code)
		if err != nil {
			n = status
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="schema-registry"`)
		}
		srError(w, status, n, cmp.Or(message, code))
		noteError(w, code)
	case formatEntra:
		entraError(w, status, code, 0, message)
	case formatGCE:
		if r.URL.Path == gceTokenURIPath {
			noStoreError(w, status, code, message)
			return
		}
		noteError(w, code)
		w.Header().Set("Metadata-Flavor", "Google")
		gceText(w, status, cmp.Or(message, code)+"\n")
	default: // OAuth and IMDS: the RFC 6749 shape
		if s.format == formatOAuth {
			oauthNoStore(w)
		}
		oauthError(w, status, code, message)
	}
}

// echo writes an error reply, in the server's format, quoting r.
func (s *Server) echo(w http.ResponseWriter, r *http.Request, status int) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var b strings.Builder
	b.WriteString("could not process the request body " + string(raw) + " with parameters")
	vals, _ := url.ParseQuery(string(raw))
	for k, vs := range r.URL.Query() {
		vals[k] = append(vals[k], vs...)
	}
	keys := slices.Sorted(maps.Keys(vals))
	for _, k := range keys {
		for _, v := range vals[k] {
			b.WriteString(" " + k + "='" + v + "'")
		}
	}
	for _, h := range []string{"Authorization", "X-Amz-Security-Token"} {
		if v := r.Header.Get(h); v != "" {
			b.WriteString(" and header " + h + ": " + v)
		}
	}
	code := "invalid_request"
	switch s.format {
	case formatSTS:
		code = "InvalidParameterValue"
	case formatSchemaRegistry:
		code = strconv.Itoa(status*100 + 1)
	}
	s.writeError(w, r, status, code, b.String())
}

// sleep waits d, returning false if the request or server ended first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

// InProcess returns an HTTP client that serves every request with this
// server's handler in the calling goroutine, whatever the URL's host:
// no socket, so code under testing/synctest (whose fake clock then also
// drives the emulator's time.Now) can reach it.
func (s *Server) InProcess() *http.Client {
	h := s.hs.Config.Handler
	return &http.Client{Transport: inProcess{h}}
}

type inProcess struct{ h http.Handler }

// NoMetadataProxy declares to the credential gate (internal/idphttp)
// that this transport, which stands for the network, sends metadata
// requests without a proxy.
func (p inProcess) NoMetadataProxy() {}

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	// What a server sees of a client's request: the Host, the request
	// URI and a peer address (a SigV4 signature covers the Host).
	in := req.Clone(req.Context())
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// oauthError writes the RFC 6749 section 5.2 error shape and records the
// code.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	noteError(w, code)
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
