package battery

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/saidcheck"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
)

// offMachine is the non-loopback address of the plain-http cases:
// TEST-NET-1, never dialled (every client of the battery refuses it and
// counts the attempt).
const offMachine = "192.0.2.1"

// mode is how the hostile host answers a credential request. dump is
// every value the request carried, as one line.
type mode func(h *host, w http.ResponseWriter, r *http.Request, dump string)

// host is one hostile identity endpoint: https on idp.test (any path),
// plain http for the metadata addresses (169.254.169.254:80 and
// metadata.google.internal:80), a trap for redirects, and a client that
// reaches them on 127.0.0.1 only.
type host struct {
	b      *redirecttest.Bench
	c      *saidcheck.Collector
	tls    *httptest.Server
	plain  *httptest.Server
	mode   atomic.Pointer[mode]
	dials  atomic.Int64 // dial attempts to anything but 127.0.0.1 and *.test
	reqs   atomic.Int64
	wrote  atomic.Int64 // body bytes the endless and slow modes wrote
	active atomic.Int64 // requests whose handler still runs
	arrive chan struct{}
	once   sync.Once
	// closing ends every handler, so that the servers can close even
	// when a client keeps a request open.
	closing chan struct{}
}

func newHost(t *testing.T, c *saidcheck.Collector, m mode) *host {
	h := &host{b: redirecttest.New(t), c: c, arrive: make(chan struct{}), closing: make(chan struct{})}
	h.mode.Store(&m)
	h.tls = h.b.Serve(t, h, true)
	h.plain = h.b.Serve(t, h, false)
	t.Cleanup(func() { close(h.closing) }) // runs before the servers close
	for _, a := range []string{"169.254.169.254:80", "metadata.google.internal:80", "metadata.google.internal.:80"} {
		h.b.Route(a, h.plain)
	}
	// Entra's instance discovery, which MSAL asks before using an
	// authority host it does not know.
	h.b.Route(entraDiscovery+":443", h.tls)
	return h
}

// entraDiscovery is the host MSAL asks for instance discovery.
const entraDiscovery = "login.microsoftonline.com"

// URL is the hostile endpoint's https base URL, https://idp.test:port.
func (h *host) URL() string { return redirecttest.URLAt(h.tls, redirecttest.IdPHost) }

// Client is a caller-supplied client that reaches the host's servers and
// refuses (and counts) every other dial.
func (h *host) Client() *http.Client {
	tr := h.b.Transport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if hst, _, err := net.SplitHostPort(addr); err == nil && hst != "127.0.0.1" && !strings.HasSuffix(hst, ".test") && hst != entraDiscovery &&
			!strings.HasPrefix(hst, "169.254.169.254") && !strings.HasPrefix(hst, "metadata.google.internal") {
			h.dials.Add(1)
			return nil, errors.New("battery: refusing to dial " + addr)
		}
		return dial(ctx, network, addr)
	}
	roots := tr.TLSClientConfig.RootCAs
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := tr.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		name, _, _ := net.SplitHostPort(addr)
		if name == entraDiscovery {
			name = redirecttest.IdPHost // the host stands in for it, with its own certificate
		}
		tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return &http.Client{Transport: tr}
}

// arrived is closed when the first credential request arrives.
func (h *host) arrived() <-chan struct{} { return h.arrive }

func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Counted before the body is read: a request the client abandons
	// mid-body still runs here until the read ends.
	h.active.Add(1)
	defer h.active.Add(-1)
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		// Entra's discovery document: the token request comes next.
		tenant := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
		base := "https://" + r.Host + "/" + tenant
		_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
		return
	}
	if r.URL.Path == "/common/discovery/instance" {
		auth := r.URL.Query().Get("authorization_endpoint")
		writeJSON(w, http.StatusOK, map[string]any{"api-version": "1.1",
			"tenant_discovery_endpoint": strings.Replace(auth, "/oauth2/v2.0/authorize", "/v2.0/.well-known/openid-configuration", 1),
			"metadata":                  []map[string]any{{"preferred_network": r.Host, "preferred_cache": r.Host, "aliases": []string{r.Host}}}})
		return
	}
	h.reqs.Add(1)
	dump := h.record(r, raw)
	h.once.Do(func() { close(h.arrive) })
	(*h.mode.Load())(h, w, r, dump)
}

// credentialKeys are form, query and JSON fields that carry credentials.
var credentialKeys = []string{"client_secret", "client_assertion", "assertion", "subject_token", "actor_token",
	"password", "refresh_token", "jwt", "token", "WebIdentityToken", "ProviderId"}

// record registers every credential the request carried as a secret and
// returns the whole request as one line: method, URL, headers, body, and
// the decoded form, Basic credentials and JSON fields.
func (h *host) record(r *http.Request, raw []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s host=%s", r.Method, r.URL.String(), r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, " %s: %s", k, v)
		}
	}
	b.WriteString(" body: " + string(raw))
	vals, _ := url.ParseQuery(string(raw))
	for k, vs := range r.URL.Query() {
		vals[k] = append(vals[k], vs...)
	}
	var js map[string]any
	if json.Unmarshal(raw, &js) == nil {
		for k, v := range js {
			if s, ok := v.(string); ok {
				vals.Add(k, s)
			}
		}
	}
	for k, vs := range vals {
		for _, v := range vs {
			fmt.Fprintf(&b, " %s=%s", k, v)
			for _, ck := range credentialKeys {
				if strings.EqualFold(k, ck) {
					h.c.Secret("sent "+k, v)
				}
			}
		}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, cred, _ := strings.Cut(a, " ")
		switch {
		case strings.EqualFold(scheme, "Basic"):
			h.c.Secret("sent Basic credentials", cred)
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				b.WriteString(" basic: " + string(dec))
				if _, pw, ok := strings.Cut(string(dec), ":"); ok {
					h.c.Secret("sent Basic password", pw)
					if un, err := url.QueryUnescape(pw); err == nil {
						h.c.Secret("sent Basic password (decoded)", un)
					}
				}
			}
		case strings.HasPrefix(scheme, "AWS4-"):
			if _, sig, ok := strings.Cut(cred, "Signature="); ok {
				h.c.Secret("sent SigV4 signature", sig)
			}
		default:
			h.c.Secret("sent "+scheme+" credentials", cred)
		}
	}
	h.c.Secret("sent X-Amz-Security-Token", r.Header.Get("X-Amz-Security-Token"))
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(b.String())
}

// The modes.

var (
	echoJSONError mode = func(_ *host, w http.ResponseWriter, _ *http.Request, d string) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": d, "error_description": d, "error_uri": "https://idp.test/e?" + url.QueryEscape(d),
			"message": d, "Message": d, "detail": d, "error_codes": []string{d}, "trace_id": d, "correlation_id": d})
	}
	echoXMLError mode = func(_ *host, w http.ResponseWriter, _ *http.Request, d string) {
		var esc strings.Builder
		_ = xml.EscapeText(&esc, []byte(d))
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		e := esc.String()
		_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>`+e+
			`</Code><Message>`+e+`</Message></Error><RequestId>`+e+`</RequestId></ErrorResponse>`)
	}
	echoText mode = func(_ *host, w http.ResponseWriter, _ *http.Request, d string) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "internal error while handling "+d)
	}
	echoReplyFields mode = func(_ *host, w http.ResponseWriter, _ *http.Request, d string) {
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "", "token_type": d, "expires_in": d, "expires_on": d,
			"scope": d, "issued_token_type": d, "id_token": d, "resource": d, "client_id": d, "error": d})
	}
	echoHeaders mode = func(_ *host, w http.ResponseWriter, _ *http.Request, d string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_client", error_description="`+strings.ReplaceAll(d, `"`, `'`)+`"`)
		w.Header().Set("X-Echo", d)
		w.Header().Set("X-Amzn-ErrorType", d)
		w.Header().Set("X-Ms-Diagnostics", d)
		w.WriteHeader(http.StatusUnauthorized)
	}
	hang mode = func(h *host, _ http.ResponseWriter, r *http.Request, _ string) {
		select {
		case <-r.Context().Done():
		case <-h.closing:
		}
	}
	endless mode = func(h *host, w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"access_token":"`)
		chunk := []byte(strings.Repeat("A", 32<<10))
		for r.Context().Err() == nil && !closed(h.closing) {
			n, err := w.Write(chunk)
			h.wrote.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
	slow mode = func(h *host, w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"access_token":"`)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-h.closing:
				return
			case <-tick.C:
				n, err := io.WriteString(w, "A")
				h.wrote.Add(int64(n))
				if err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	}
)

// redirectTo answers with status and a Location on the trap.
func redirectTo(status int, scheme, hostname string) mode {
	return func(h *host, w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Location", h.b.TrapURL(scheme, hostname))
		w.WriteHeader(status)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// abandoned reports whether every request the host received
// has ended (the client closed or cancelled it), waiting up to wait.
func (h *host) abandoned(wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for h.active.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
