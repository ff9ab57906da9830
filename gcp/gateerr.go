package gcp

import (
	"errors"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// golang.org/x/oauth2 quotes a transport error with %v ("oauth2: cannot
// fetch token: %v"), which cuts the chain to the credential gate's typed
// errors: a refused redirect, an untrusted certificate (naming the host
// and the CA setting), a proxy's refusal. The client's transport notes
// the error its last request ended with, so that tokenError can return
// it whole, wrapped.

// note records err when it is one of the gate's own errors, and forgets
// the previous one otherwise, so the note is always the last request's.
func (t *classifyTransport) note(err error) {
	var (
		re *idphttp.RedirectError
		te *idphttp.TLSError
		pe *idphttp.ProxyError
		ie *idphttp.InsecureEndpointError
	)
	if err != nil && (errors.As(err, &re) || errors.As(err, &te) || errors.As(err, &pe) || errors.As(err, &ie)) {
		t.last.Store(&err)
		return
	}
	t.last.Store(nil)
}

// gateError wraps the gate's error that the last request of c's client
// ended with; nil if it ended otherwise. Refused redirects and insecure
// endpoints are permanent, as the gate says; TLS and proxy failures are
// transient like the network errors they are.
func (c *creds) gateError(what string) error {
	lt, ok := c.hc.Transport.(*classifyTransport)
	if !ok {
		return nil
	}
	p := lt.last.Load()
	if p == nil {
		return nil
	}
	err := fmt.Errorf("gcp: getting %s for the %q credentials from %s failed: %w", what, c.typ, c.setting, *p)
	var (
		re *idphttp.RedirectError
		ie *idphttp.InsecureEndpointError
	)
	if errors.As(*p, &re) || errors.As(*p, &ie) {
		return err
	}
	return oauthbearer.Transient(err, 0)
}
