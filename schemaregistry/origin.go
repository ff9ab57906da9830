package schemaregistry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// maxRedirects is http.Client's default limit, kept by [NewHTTPClient]'s
// redirect policy.
const maxRedirects = 10

// chainOrigin returns the URL of the first request of req's redirect
// chain: http.Client sets Response on the request it makes to follow a
// redirect, and that response's Request is the request before. ok is
// false when the chain is broken (a redirect whose previous request is
// unknown), so the origin cannot be told.
func chainOrigin(req *http.Request) (u *url.URL, ok bool) {
	for req.Response != nil {
		if req.Response.Request == nil || req.Response.Request.URL == nil {
			return nil, false
		}
		req = req.Response.Request
	}
	return req.URL, true
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (RFC 6454), the only requests a bearer token may go to.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// origin is a URL's scheme and host, the only parts quoted in errors.
func origin(u *url.URL) string { return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() }

// RedirectError reports a Schema Registry request that was redirected to
// another origin (scheme, host or port) by a client from [NewHTTPClient];
// the redirect was not followed.
type RedirectError struct {
	// From is the origin of the request, To the redirect's.
	From, To string
	// StatusCode is the redirect's HTTP status.
	StatusCode int
}

// Error names both origins and the fix.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("schemaregistry: %s answered %d, a redirect to another origin %q, which was not followed: the bearer token is sent only to the origin of the request; set the Schema Registry URL to the address that serves it; %s",
		e.From, e.StatusCode, e.To, troubleshooting.See("schema-registry-redirect"))
}

// refuseCrossOrigin is [NewHTTPClient]'s CheckRedirect: same-origin
// redirects are followed (with the token), others are refused.
func refuseCrossOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("schemaregistry: stopped after 10 redirects")
	}
	if len(via) > 0 && !sameOrigin(via[0].URL, req.URL) {
		e := &RedirectError{From: origin(via[0].URL), To: origin(req.URL)}
		if req.Response != nil {
			e.StatusCode = req.Response.StatusCode
		}
		return e
	}
	return nil
}
