package idphttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// The credential gate: the one http.RoundTripper under every client this
// package hands out ([Client], [MetadataClient]) and the one check of
// [Guard], so every request that carries or fetches a credential passes
// it, including the requests azidentity, the AWS SDK, golang.org/x/oauth2
// and compute/metadata make with the client we give them. Per request it
//
//   - refuses, before anything is sent, a target that is not https, or
//     plain http to a loopback host, or (metadata clients only) to a
//     link-local address or a metadata host the source checked
//     ([*InsecureEndpointError]);
//   - records every secret the request carries into the recorder of the
//     request's context (internal/fetchrec), which the cache created for
//     the fetch and scrubs the fetch's error and logs with;
//   - bounds the request by the fetch's deadline (or [DefaultTimeout]
//     when the context has none);
//   - refuses a redirect reply ([*RedirectError]) and reads every reply
//     body through [bodylimit.Default].

// maxRecordedBody is the most of a request body the gate reads to record
// its secrets; token requests are a few kilobytes. A larger body is sent
// unread past this prefix.
const maxRecordedBody = 1 << 20

type policy struct {
	source   string
	metadata bool
	hosts    map[string]bool
}

type gate struct {
	base http.RoundTripper
	p    policy
}

// MetadataClient is [Client] for a metadata-server source (GCE, Azure
// IMDS, AWS IMDS): besides https and loopback, it may use plain http to a
// link-local address (169.254.169.254 and the rest of 169.254.0.0/16,
// fe80::/10, AWS's fd00:ec2::254 and fd00:ec2::23) and to the hosts
// listed, which the caller has checked ([CheckMetadataHost]).
func MetadataClient(c *http.Client, source string, hosts ...string) *http.Client {
	p := policy{source: source, metadata: true, hosts: map[string]bool{}}
	for _, h := range hosts {
		p.hosts[normHost(h)] = true
	}
	return client(c, p)
}

func client(c *http.Client, p policy) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	} else {
		cp = http.Client{Transport: Transport(), Timeout: DefaultTimeout}
	}
	cp.CheckRedirect = refuse(p.source)
	base := cp.Transport
	if g, ok := base.(*gate); ok {
		base = g.base // one gate, with the policy asked for now
	}
	if base == nil {
		base = http.DefaultTransport
	}
	base = gateBase(base, p) // proxy.go: only https to remote hosts is proxied; metadata never is
	cp.Transport = &gate{base: base, p: p}
	return &cp
}

// Gated reports whether c sends through the credential gate.
func Gated(c *http.Client) bool {
	if c == nil {
		return false
	}
	_, ok := c.Transport.(*gate)
	return ok
}

// Base returns the transport under c's gate (c's own transport when it is
// not gated), for tests and for code that must configure the transport.
func Base(c *http.Client) http.RoundTripper {
	if g, ok := c.Transport.(*gate); ok {
		return g.base
	}
	return c.Transport
}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.p.admit(req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	req, err := record(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		req = req.WithContext(ctx)
	}
	// observe.go: a fetch with an observer sees each request that
	// passed the gate.
	resp, err := observedTransport{g.base}.RoundTrip(req)
	if err != nil {
		cancel()
		// tls.go: a certificate the roots refuse names the host and
		// where the roots come from, whatever the transport.
		return nil, explainProxy(g.base, req, explainTLS(req, "", err))
	}
	if isRedirect(resp.StatusCode) && resp.Header.Get("Location") != "" {
		e := &RedirectError{Source: g.p.source, Endpoint: srvtext.URL(req.URL.String()), StatusCode: resp.StatusCode}
		if loc, err := req.URL.Parse(resp.Header.Get("Location")); err == nil {
			e.Location = Origin(loc)
		}
		_ = resp.Body.Close()
		cancel()
		return nil, e
	}
	resp.Body = &cancelBody{ReadCloser: bodylimit.Body(resp.Body, bodylimit.Default), cancel: cancel}
	return resp, nil
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// transport under the gate.
func (g *gate) CloseIdleConnections() {
	if c, ok := g.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// record records the secrets req carries into its context's recorder. It
// reads a form or JSON body (up to maxRecordedBody) to see its values,
// and returns a shallow copy of req that sends the same bytes.
func record(req *http.Request) (*http.Request, error) {
	if fetchrec.From(req.Context()) == nil {
		return req, nil
	}
	var body []byte
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	if req.Body != nil && req.Body != http.NoBody && (strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.Contains(ct, "json")) {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxRecordedBody))
		if err != nil {
			_ = req.Body.Close()
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		body = b
		r := *req
		r.Body = &prefixBody{Reader: io.MultiReader(bytes.NewReader(b), req.Body), c: req.Body}
		r.GetBody = nil
		req = &r
	}
	fetchrec.RecordRequest(req, body)
	return req, nil
}

type prefixBody struct {
	io.Reader
	c io.Closer
}

func (b *prefixBody) Close() error { return b.c.Close() }

// admit checks the target of one request.
func (p policy) admit(u *url.URL) error {
	if u == nil {
		return &InsecureEndpointError{Source: p.source}
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		host := normHost(u.Hostname())
		if IsLoopback(host) {
			return nil
		}
		if p.metadata && (IsLinkLocal(host) || p.hosts[host]) {
			return nil
		}
	}
	return &InsecureEndpointError{Source: p.source, Endpoint: srvtext.URL(u.String()), Metadata: p.metadata}
}

func normHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// IsLoopback reports whether host is localhost or a loopback IP: the only
// hosts a bearer token may be sent to over plain http by default.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLinkLocal reports whether host is an IP address where cloud metadata
// servers answer: IPv4 link-local (169.254.0.0/16: GCE, Azure IMDS, AWS
// IMDS, ECS, EKS Pod Identity), IPv6 link-local, or AWS's documented IPv6
// metadata addresses fd00:ec2::254 and fd00:ec2::23.
func IsLinkLocal(host string) bool {
	ip := net.ParseIP(normHost(host))
	if ip == nil {
		return false
	}
	if ip.IsLinkLocalUnicast() {
		return true
	}
	return ip.Equal(net.ParseIP("fd00:ec2::254")) || ip.Equal(net.ParseIP("fd00:ec2::23"))
}

// CheckMetadataHost checks a metadata server's host (host or host:port,
// as in GCE_METADATA_HOST) that field names: a loopback or link-local
// address, localhost, or a name that resolves (with ctx) to such
// addresses only. A metadata server is reached over plain http, so
// anything else would send tokens across a network in clear text.
func CheckMetadataHost(ctx context.Context, source, field, hostport string) error {
	host := normHost(hostport)
	bad := func(why string) error {
		return fmt.Errorf("%s: %s is %q, %s; a metadata server is reached over plain http, so it must be a loopback or link-local address (169.254.169.254 on Google Cloud, or a local emulator on 127.0.0.1)",
			source, field, srvtext.Field(hostport), why)
	}
	switch {
	case host == "":
		return bad("not a host")
	case IsLoopback(host) || IsLinkLocal(host):
		return nil
	case net.ParseIP(host) != nil:
		return bad("neither a loopback nor a link-local address")
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) {
			err = errors.New(de.Err)
		}
		return bad(fmt.Sprintf("a name that did not resolve (%v)", err))
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() && !IsLinkLocal(a.IP.String()) {
			return bad(fmt.Sprintf("a name that resolves to %s, neither a loopback nor a link-local address", a.IP))
		}
	}
	return nil
}

// InsecureEndpointError reports a request the gate refused to send: its
// target is neither https nor plain http to a host where that is safe.
// It is permanent: the endpoint setting is wrong.
type InsecureEndpointError struct {
	// Source is the package that made the request.
	Source string
	// Endpoint is the URL, without user info, query or fragment.
	Endpoint string
	// Metadata is set for a metadata-server source, which may also use
	// link-local addresses.
	Metadata bool
}

// Error names the endpoint and what is allowed.
func (e *InsecureEndpointError) Error() string {
	allowed := "plain http is allowed for loopback test servers"
	if e.Metadata {
		allowed = "plain http is allowed for loopback and link-local metadata servers"
	}
	return fmt.Sprintf("%s: refused to send a request to %q, which is not https: tokens and credentials are sent only over https (%s); nothing was sent",
		e.Source, e.Endpoint, allowed)
}

// NonRetriable tells azcore's retry policy not to retry the request.
func (e *InsecureEndpointError) NonRetriable() {}

// CheckMetadataEndpoint is [CheckEndpoint] for a URL that a metadata
// source may reach over plain http: https, or http to a loopback or
// link-local address (an external account's credential_source.url on
// Azure or AWS).
func CheckMetadataEndpoint(source, field, raw string) error {
	u, err := url.Parse(raw)
	if err == nil && u.Host != "" && (policy{source: source, metadata: true}).admit(u) == nil {
		return nil
	}
	if err := CheckEndpoint(source, field, raw); err != nil {
		return fmt.Errorf("%w (or link-local metadata servers)", err)
	}
	return nil
}
