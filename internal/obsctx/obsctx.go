// Package obsctx carries, in a token fetch's context, the hook that the
// identity-provider HTTP client (internal/idphttp) calls for each request,
// so that a [oauthbearer.Cache] with an observer learns the status and
// transport error of the requests its source made, and an observer can
// trace them. It imports nothing of this module, so that both the cache
// and the HTTP client can use it.
package obsctx

import "context"

// Request describes one identity-provider HTTP request: only fields that
// are safe to record and of bounded variety (no path, no query, no header).
type Request struct {
	Method        string
	Scheme        string
	ServerAddress string // the server's host name or IP
	ServerPort    int
}

// Hook is told of each request made with a context that carries it.
type Hook interface {
	// Start is called before the request is sent; the returned context
	// (which may carry a span) is passed to End.
	Start(ctx context.Context, r Request) context.Context
	// End is called with the reply's status (0 when none arrived) and the
	// transport error, if any.
	End(ctx context.Context, r Request, status int, err error)
}

type key struct{}

// With returns ctx carrying h.
func With(ctx context.Context, h Hook) context.Context { return context.WithValue(ctx, key{}, h) }

// From returns the hook ctx carries, or nil.
func From(ctx context.Context) Hook {
	h, _ := ctx.Value(key{}).(Hook)
	return h
}
