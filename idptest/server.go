package idptest

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the HTTP server under every emulator in this package. It
// listens on 127.0.0.1 only, counts requests, and injects faults queued
// with [Server.FailNext].
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234 (https:// for
	// servers that speak TLS).
	URL string

	name     string
	hs       *httptest.Server
	closing  chan struct{}
	once     sync.Once
	requests atomic.Int64

	mu      sync.Mutex
	faults  []Fault
	paths   map[string]int
	records []Record
}

// Record is one request the server received, faulted or not. It holds no
// body and no header, so no credential.
type Record struct {
	Method, Path string
	// Query is the URL's query parameters.
	Query url.Values
	// Status is the reply's HTTP status, 0 until the reply starts (or
	// for a request that hung).
	Status int
}

// Records returns every request received so far, oldest first.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.records)
	for i := range out {
		out[i].Query = maps.Clone(out[i].Query)
	}
	return out
}

// statusWriter notes the reply's status in the server's record i when
// the reply starts, before the client can see it.
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
		w.s.records[w.i].Status = code
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

// Fault describes how the next request fails. Fields combine: Latency
// delays whatever else happens.
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
	// value, to prove clients read through a size limit.
	Oversize int
	// Echo answers with Status (default 400) and an error reply that
	// quotes the whole request back, as many identity providers do in
	// error_description: the raw body, the decoded form and query values
	// and the credential headers (Authorization, X-Amz-Security-Token).
	// The reply is in the server's own error format (OAuth JSON, the STS
	// XML error, Schema Registry's JSON). Use it to prove a client never
	// quotes what it sent.
	Echo bool
	// Path, if set, limits the fault to requests for this URL path: other
	// requests (such as an OpenID discovery fetch before the token
	// request) are served normally and leave the fault queued.
	Path string
}

func startServer(name string, h http.Handler, tlsOn *bool) (*Server, error) {
	return startServerTLS(name, h, tlsOn, nil)
}

// startServerTLS is startServer with the TLS configuration the server
// starts with (client certificate verification); httptest adds its
// certificate.
func startServerTLS(name string, h http.Handler, tlsOn *bool, cfg *tls.Config) (*Server, error) {
	s := &Server{name: name, closing: make(chan struct{}), paths: map[string]int{}}
	s.hs = httptest.NewUnstartedServer(s.wrap(h))
	s.hs.TLS = cfg
	if tlsOn != nil && *tlsOn {
		s.hs.StartTLS()
	} else {
		s.hs.Start()
	}
	if !strings.Contains(s.hs.URL, "127.0.0.1") {
		s.hs.Close()
		return nil, fmt.Errorf("%s: could not listen on 127.0.0.1 (got %s)", name, s.hs.URL)
	}
	s.URL = s.hs.URL
	return s, nil
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
// (for TLS servers) and talks to it directly.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// Close shuts the server down, releasing hung requests, and waits for
// in-flight requests to finish. It is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// FailNext makes the next n requests fail as f says.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// ClearFaults drops queued faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests counts every request received, faulted or not.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// RequestsTo counts requests whose URL path is path.
func (s *Server) RequestsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[path]
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
		s.requests.Add(1)
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.records = append(s.records, Record{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
		w := &statusWriter{ResponseWriter: rw, s: s, i: len(s.records) - 1}
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
		case f.Status != 0:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			body := f.Body
			if body == "" {
				body = fmt.Sprintf(`{"error":"injected_fault","error_description":"%s: injected status %d"}`, s.name, f.Status)
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
			h.ServeHTTP(rec, r)
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
	msg := b.String()
	var body []byte
	switch s.name {
	case "sts":
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, []byte(msg))
		w.Header().Set("Content-Type", "text/xml")
		body = []byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>` +
			esc.String() + `</Message></Error><RequestId>echo-0000</RequestId></ErrorResponse>`)
	case "schema registry":
		w.Header().Set("Content-Type", "application/json")
		body, _ = json.Marshal(map[string]any{"error_code": status*100 + 1, "message": msg})
	default:
		w.Header().Set("Content-Type", "application/json")
		body, _ = json.Marshal(map[string]any{"error": "invalid_request", "error_description": msg})
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
