//go:build cgo

package confluentkafka

import (
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// maxText bounds a librdkafka log line or error text the adapter passes
// on: long enough for librdkafka's longest lines, short enough that a
// broker cannot blow up a log record.
const maxText = 2048

// keptTokens is how many of the tokens a Refresher set it remembers for
// scrubbing: librdkafka may log a connection's token after the next one
// was set.
const keptTokens = 4

// scrub is the one place where text that librdkafka or a broker wrote
// (log lines, their facility and client names, error messages, broker
// names in a rejection) is made safe before it reaches the application's
// logger, an error or librdkafka itself: the tokens this refresher set
// (sent) are removed, as are anything token- or key-shaped, ANSI escapes
// and control characters (srvtext.Scrub), and the result is clipped.
// What librdkafka itself logs through its own log callback, before the
// adapter sees it, is out of its reach.
func scrub(s string, sent ...string) string {
	return srvtext.Clip(srvtext.Scrub(s, sent...), maxText)
}

// scrubbedError shows err's text scrubbed; errors.Is and errors.As still
// reach err (a kafka.Error, an *oauthbearer.TransientError).
type scrubbedError struct {
	err  error
	text string
}

func (e *scrubbedError) Error() string { return e.text }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubErr returns err with its text scrubbed (nil for nil).
func scrubErr(err error, sent ...string) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*scrubbedError); ok && len(sent) == 0 {
		return err
	}
	return &scrubbedError{err: err, text: scrub(err.Error(), sent...)}
}

// sent returns the tokens r set recently, for scrub.
func (r *Refresher) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.setTokens...)
}

// rememberLocked records a token r set, keeping the last keptTokens; r.mu is
// held.
func (r *Refresher) rememberLocked(tok string) {
	if n := len(r.setTokens); n > 0 && r.setTokens[n-1] == tok {
		return
	}
	if len(r.setTokens) == keptTokens {
		r.setTokens = append(r.setTokens[:0], r.setTokens[1:]...)
	}
	r.setTokens = append(r.setTokens, tok)
}
