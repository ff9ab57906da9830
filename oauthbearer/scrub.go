package oauthbearer

import (
	"context"
	"log/slog"

	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
)

// The one scrub at the boundary of every source.
//
// Each fetch runs with a fresh recorder in its context
// (internal/fetchrec). The credential gate that every identity-provider
// request of the module passes (internal/idphttp), including those that
// azidentity, the AWS SDK, golang.org/x/oauth2 and compute/metadata make
// with the client the module gives them, records there every secret the
// request carries. When the source returns, its error is scrubbed here of
// those values (raw and in the encodings servers echo them in), of the
// token held and the token returned, of anything token- or key-shaped and
// of control characters, before the cache stores, logs or returns it. So
// a source cannot forget to scrub, and text that a library built from a
// reply it never showed us cannot quote what was sent.
//
// The recorder lives in internal/fetchrec rather than here because
// internal/idphttp, which records, imports this package (for
// ErrRedirectRefused and Transient): a small leaf package both import
// keeps the graph acyclic without exporting the recorder from the public
// API.

// withRecorder returns ctx carrying a fresh recorder for one fetch.
func withRecorder(ctx context.Context) (context.Context, *fetchrec.Recorder) {
	rec := fetchrec.New()
	return fetchrec.With(ctx, rec), rec
}

// scrub returns the error leaving a fetch, scrubbed of what rec recorded,
// of the token the fetch got and of the last token the cache handed out
// (presented: the held token, cur, is always that one or nil).
func (c *Cache) scrub(err error, rec *fetchrec.Recorder, got Token) error {
	if err == nil {
		return nil
	}
	extra := []string{got.Value}
	if e := c.presented.Load(); e != nil {
		extra = append(extra, e.tok.Value)
	}
	return fetchrec.Error(err, rec, extra...)
}

// scrubbingLogger wraps the cache's logger so that no record it emits
// carries a token- or key-shaped value or control characters, and records
// logged with a fetch's context (LogAttrs/WarnContext) lose what that
// fetch sent.
func scrubbingLogger(l *slog.Logger) *slog.Logger { return fetchrec.Logger(l) }
