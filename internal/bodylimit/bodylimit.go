// Package bodylimit caps how much of an HTTP response body a client reads,
// so that a broken or hostile identity endpoint (or a captive proxy) cannot
// make a token fetch buffer an unbounded reply. Token replies are a few
// kilobytes; the SDKs this module drives (azidentity, aws-sdk-go-v2) read
// replies with io.ReadAll or an XML decoder that buffers character data
// without a bound.
package bodylimit

import (
	"fmt"
	"io"
	"net/http"
)

// Default is the largest response body read from an identity endpoint:
// 1 MiB, two orders of magnitude above any real token reply.
const Default = 1 << 20

// Error reports a response body longer than the limit.
type Error struct {
	// Limit is the number of bytes allowed.
	Limit int64
}

// Error says what happened and what usually causes it.
func (e *Error) Error() string {
	return fmt.Sprintf("the reply is larger than %d bytes, so it is not a token reply; check that the endpoint URL points at the identity provider and that no proxy answers instead", e.Limit)
}

// Body wraps rc so that reading more than limit bytes fails with an
// [*Error] instead of returning more data.
func Body(rc io.ReadCloser, limit int64) io.ReadCloser {
	return &body{rc: rc, left: limit, limit: limit}
}

type body struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &Error{Limit: b.limit}
	}
	// Read one byte past the limit to tell "exactly limit" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), &Error{Limit: b.limit}
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// Response wraps resp's body with [Body]; it returns resp for chaining and
// accepts nil.
func Response(resp *http.Response, limit int64) *http.Response {
	if resp != nil && resp.Body != nil {
		resp.Body = Body(resp.Body, limit)
	}
	return resp
}

// Doer is the one method of *http.Client that SDKs call.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client wraps d so that every response body is read through a limit.
func Client(d Doer, limit int64) Doer { return client{d: d, limit: limit} }

type client struct {
	d     Doer
	limit int64
}

func (c client) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.d.Do(req)
	return Response(resp, c.limit), err
}
