package oauthbearer

import "context"

// TokenSource supplies bearer tokens.
//
// Token must be safe for concurrent use. It returns a token that is valid
// now, or an error; it must honour ctx's deadline and cancellation. The
// returned Token must not be modified by the caller.
//
// Raw sources (one identity-provider request per call) are wrapped in a
// [Cache] by every constructor in this module; a TokenSource returned by
// this module is therefore cheap to call on every connection.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts an ordinary function to a [TokenSource].
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// Invalidator is implemented by token sources that can drop a token a
// server rejected, so that the next call fetches a fresh one. Adapters call
// it when a broker or Schema Registry rejects a token; wrappers forward it.
type Invalidator interface {
	// Invalidate discards rejected if it is still the token being handed
	// out. Invalidating a token that was already replaced does nothing,
	// so many connections reporting the same rejection cause one refresh.
	Invalidate(rejected Token)
}

// Invalidate calls src.Invalidate(rejected) if src implements
// [Invalidator], and reports whether it did.
func Invalidate(src TokenSource, rejected Token) bool {
	if inv, ok := src.(Invalidator); ok {
		inv.Invalidate(rejected)
		return true
	}
	return false
}

// StaticTokenSource returns a source that always returns tok. It is meant
// for tests and for tokens managed elsewhere; it never refreshes.
func StaticTokenSource(tok Token) TokenSource {
	return TokenSourceFunc(func(context.Context) (Token, error) { return tok, nil })
}
