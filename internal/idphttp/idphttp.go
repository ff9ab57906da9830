// Package idphttp is the one HTTP policy of every identity-provider token
// request the module makes (Confluent Cloud STS, OAuth client credentials,
// Microsoft Entra ID and IMDS through azidentity, AWS STS through the AWS
// SDK):
//
//   - redirects are never followed. A token request carries a credential
//     (a subject token, a client secret, a client assertion, a federated
//     token, SigV4 headers with a session token); a 307 or 308 would send
//     it again to wherever the Location points, and Go keeps custom
//     headers and, when only the scheme changes, Authorization. No token
//     endpoint has a reason to redirect a POST, so a redirect is reported
//     as a [*RedirectError] naming the endpoint and the Location's host;
//   - the default client keeps no idle connections: a source fetches a
//     few times an hour, so a kept connection saves nothing, and without
//     one no connection goroutine outlives the source's Close;
//   - endpoints are https, or plain http only to a loopback host
//     ([CheckEndpoint]), or for metadata servers to a link-local address
//     ([MetadataClient]);
//   - every request passes the credential gate (gate.go), which enforces
//     the above per request, records the secrets it carries for the
//     fetch's scrub (internal/fetchrec), bounds it by the fetch's
//     deadline and reads replies through a size limit.
//
// Caller-supplied clients get the same policy on a shallow copy; theirs is
// never modified.
package idphttp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// DefaultTimeout bounds a whole request (connection, redirects refused,
// reading the reply) of the default client.
const DefaultTimeout = 30 * time.Second

// Doer is the one method of *http.Client that the SDKs call (azcore's
// policy.Transporter, aws.HTTPClient).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Transport returns the default client's transport: http.DefaultTransport's
// settings (proxy from the environment through [EnvironmentProxy], dial and TLS handshake timeouts,
// HTTP/2), TLS 1.2 at least, and no keep-alives.
func Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 EnvironmentProxy,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		DisableKeepAlives:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// Client returns a shallow copy of c whose CheckRedirect refuses every
// redirect with a [*RedirectError] whose message starts with source ("confluent",
// "aws", "azure"), and whose transport is c's behind the credential gate
// (gate.go): https or loopback targets only, secrets recorded for the
// fetch, the fetch's deadline, bounded replies, no redirect. A nil c gets
// the default client: [Transport] with a [DefaultTimeout] overall
// timeout. c is not modified.
func Client(c *http.Client, source string) *http.Client {
	return client(c, policy{source: source})
}

// refuse is a CheckRedirect that refuses every redirect. It runs before
// the redirected request is sent, so the Location never receives it.
func refuse(source string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		e := &RedirectError{Source: source, Location: Origin(req.URL)}
		if len(via) > 0 {
			e.Endpoint = srvtext.URL(via[0].URL.String())
		}
		if req.Response != nil {
			e.StatusCode = req.Response.StatusCode
		}
		return e
	}
}

// Do sends req with d, returning a refused redirect as the
// [*RedirectError] itself rather than inside the *url.Error that
// http.Client wraps it in, whose message quotes the whole Location,
// query included. A redirect that d returned without following (Go does
// not follow a 307 or 308 whose body it cannot replay; the AWS SDK's
// client returns 301 and 302 as they are) is a [*RedirectError] too, so
// the caller sees one error whatever the client did.
//
// The request is sent without GetBody. http.Client calls GetBody to
// prepare the body of a 307/308's next hop before it consults
// CheckRedirect, and azcore's GetBody rewinds the one reader the
// transport may still be writing from: a data race (seen under -race when
// a server answers before reading the body). No redirect is followed, so
// nothing needs the replayed body: without GetBody, Go returns the 307/308
// as it is, which is refused below like any other.
func Do(d Doer, source string, req *http.Request) (*http.Response, error) {
	if req.GetBody != nil {
		r := *req
		r.GetBody = nil
		req = &r
	}
	resp, err := d.Do(req)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) {
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close()
			}
			return nil, re
		}
		return resp, err
	}
	if isRedirect(resp.StatusCode) && resp.Header.Get("Location") != "" {
		e := &RedirectError{Source: source, Endpoint: srvtext.URL(req.URL.String()), StatusCode: resp.StatusCode}
		if loc, err := req.URL.Parse(resp.Header.Get("Location")); err == nil {
			e.Location = Origin(loc)
		}
		_ = resp.Body.Close()
		return nil, e
	}
	return resp, nil
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Guard wraps d so that its Do is [Do]. Use it where an SDK takes a
// [Doer] and would quote the *url.Error or read the 3xx reply. When d is
// not a client from [Client] (a caller's own aws.HTTPClient), Guard
// applies the gate's checks itself: the target is admitted and the
// request's secrets recorded before d sees it, and the reply is read
// through the size limit.
func Guard(d Doer, source string) Doer { return guarded{d, source} }

type guarded struct {
	d      Doer
	source string
}

func (g guarded) Do(req *http.Request) (*http.Response, error) {
	if c, ok := g.d.(*http.Client); ok && Gated(c) {
		return Do(g.d, g.source, req)
	}
	if err := (policy{source: g.source}).admit(req.URL); err != nil {
		return nil, err
	}
	req, err := record(req)
	if err != nil {
		return nil, err
	}
	resp, err := Do(g.d, g.source, req)
	return bodylimit.Response(resp, bodylimit.Default), err
}

// RedirectError reports a token endpoint that answered with a redirect,
// which was not followed: the credential in the request was not sent to
// the Location. It matches [oauthbearer.ErrRedirectRefused] with
// errors.Is, and is permanent (not an [oauthbearer.TransientError]): a
// token endpoint that redirects is misconfigured or intercepted, and
// asking again gets the same answer.
type RedirectError struct {
	// Source is the package that made the request: "confluent", "aws",
	// "azure".
	Source string
	// Endpoint is the URL requested, without user info, query or
	// fragment.
	Endpoint string
	// StatusCode is the redirect's HTTP status (301, 302, 303, 307, 308).
	StatusCode int
	// Location is the scheme and host the redirect pointed at, without
	// user info, path or query.
	Location string
}

// Error names the endpoint, the status and the Location's host, and says
// what to do.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: the token endpoint %s answered %d, a redirect to %q, which was not followed: a token request carries a credential and is never redirected; set the endpoint to the URL that issues tokens, or find out what redirects it (a proxy, a captive portal, a moved service); %s",
		e.Source, e.Endpoint, e.StatusCode, e.Location, troubleshooting.See("token-endpoint-redirect"))
}

// Is reports whether target is [oauthbearer.ErrRedirectRefused].
func (e *RedirectError) Is(target error) bool { return target == oauthbearer.ErrRedirectRefused }

// NonRetriable tells azcore's retry policy not to retry the request.
func (e *RedirectError) NonRetriable() {}

// Origin returns u's scheme and host ("https://host:port"), the only parts
// of a URL chosen by someone else that are safe to quote.
func Origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// AllowsCredentials reports whether a request to u may carry credentials
// or tokens: https, or plain http to a loopback host (local emulators).
// It is the one such test: [CheckEndpoint], the gate of identity-provider
// requests and the Schema Registry transport apply it.
func AllowsCredentials(u *url.URL) bool { return (policy{}).admit(u) == nil }

// CheckEndpoint requires raw to be an absolute https URL, or http to a
// loopback host (local emulators), so that credentials and tokens never
// cross a network in clear text. The error starts with source and names
// the setting as field (as the user wrote it: an option or a property
// key).
func CheckEndpoint(source, field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s: %s is %q, not an absolute URL; use https://host/path", source, field, srvtext.URL(raw))
	}
	if AllowsCredentials(u) {
		return nil
	}
	return fmt.Errorf("%s: %s is %q; tokens and credentials are sent only over https (plain http is allowed for loopback test servers)", source, field, srvtext.URL(raw))
}
