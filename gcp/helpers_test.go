package gcp

import (
	"net/http"
	"os"
)

func writeFile(name string, b []byte) error { return os.WriteFile(name, b, 0o600) }

// redirectTo sends every request to addr, where nothing listens.
type redirectTo struct{ addr string }

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (r *redirectTo) NoMetadataProxy() {}

func (r *redirectTo) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Host = r.addr
	return http.DefaultTransport.RoundTrip(req)
}
