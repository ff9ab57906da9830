package idphttp

import (
	"net/http"
	"strconv"

	"github.com/streamidentity/kafka-workload-identity/internal/obsctx"
)

// observedTransport reports a request whose context carries an
// [obsctx.Hook] (a token fetch of a cache with an observer) to it; the
// gate sends every request through it. Other requests pass through with
// one context lookup.
type observedTransport struct{ base http.RoundTripper }

func (t observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	h := obsctx.From(req.Context())
	if h == nil {
		return base.RoundTrip(req)
	}
	r := obsctx.Request{Method: req.Method, Scheme: req.URL.Scheme, ServerAddress: req.URL.Hostname(), ServerPort: port(req)}
	ctx := h.Start(req.Context(), r)
	resp, err := base.RoundTrip(req.WithContext(ctx))
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	h.End(ctx, r, status, err)
	return resp, err
}

// CloseIdleConnections forwards to the wrapped transport, so that
// http.Client.CloseIdleConnections still reaches it.
func (t observedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func port(req *http.Request) int {
	if p, err := strconv.Atoi(req.URL.Port()); err == nil {
		return p
	}
	if req.URL.Scheme == "http" {
		return 80
	}
	return 443
}
