package oauthbearer

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/brokerstatus"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// ErrClosed is returned by [Cache.Token] after [Cache.Close].
var ErrClosed = errors.New("oauthbearer: token cache is closed")

// ErrRedirectRefused is matched (errors.Is) by the error of every source
// whose identity provider answered a token request with a redirect. The
// module's sources never follow one, because the request carries a
// credential that must not reach another URL; the error names the endpoint
// and the Location's host. It is permanent: fix the endpoint setting.
var ErrRedirectRefused = errors.New("oauthbearer: the token endpoint answered with a redirect, which was not followed")

// TransientError marks a failure that is worth retrying: the identity
// provider was unreachable, timed out, throttled the request or failed
// with a server error. Errors not marked transient (bad configuration, a
// 400/401/403 from the identity provider) are permanent.
//
// TransientError has a Temporary method returning true, which is what
// franz-go checks (through errors.As) to decide whether to retry a failed
// connection.
type TransientError struct {
	// Err is the underlying failure.
	Err error
	// RetryAfter is the delay the server asked for (HTTP Retry-After), or
	// zero. A [Cache] does not retry sooner.
	RetryAfter time.Duration
}

// Transient wraps err as a [TransientError]. It returns nil if err is nil.
func Transient(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err, RetryAfter: retryAfter}
}

// Error returns the underlying error's message, with the server's
// Retry-After if there was one.
func (e *TransientError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (server asked to retry after %s)", e.Err, e.RetryAfter)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *TransientError) Unwrap() error { return e.Err }

// Temporary reports true: the failure may go away on retry.
func (e *TransientError) Temporary() bool { return true }

// IsTransient reports whether err, or an error it wraps, is marked as
// transient with a Temporary method returning true.
func IsTransient(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// retryAfter returns the server-requested delay carried by err, if any.
func retryAfter(err error) time.Duration {
	var t *TransientError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}

// ExtensionError reports a SASL extension that breaks RFC 7628 or Kafka's
// rules. Extension values are identifiers, not secrets, so the message
// quotes them.
type ExtensionError struct {
	// Key and Value are the extension as the caller set it.
	Key   string
	Value string
	// Reason says what is wrong and how to fix it: an empty key or
	// value, the reserved key "auth", or a character RFC 7628 does not
	// allow.
	Reason string
}

// Error names the key, the value and what is wrong with it.
func (e *ExtensionError) Error() string {
	return fmt.Sprintf("oauthbearer: SASL extension %q=%q: %s; %s", e.Key, e.Value, e.Reason, troubleshooting.See("sasl-extension-errors"))
}

// RejectedError reports that a server (a Kafka broker, Schema Registry)
// rejected a token. For SASL/OAUTHBEARER the broker answers with an RFC
// 7628 error such as {"status":"invalid_token"}; Status holds that status.
//
// The error explains the usual causes, because brokers keep the precise
// reason in their own log. It is not transient: retrying with the same
// token fails the same way. Adapters call [Invalidate] on the source so the
// next connection uses a fresh token.
type RejectedError struct {
	// Server is who rejected the token, such as a broker address.
	Server string
	// Status is the error status the server returned.
	Status string
	// Scope and OpenIDConfiguration are the optional RFC 7628 fields.
	Scope               string
	OpenIDConfiguration string
	// Err is an underlying error, if any.
	Err error
}

// Error quotes the server's status and says what usually causes it.
func (e *RejectedError) Error() string {
	msg := "oauthbearer: "
	if e.Server != "" {
		msg += e.Server + " "
	} else {
		msg += "server "
	}
	msg += fmt.Sprintf("rejected the token with status %q", e.Status)
	if e.Scope != "" {
		msg += fmt.Sprintf(" (scope %q)", e.Scope)
	}
	if e.OpenIDConfiguration != "" {
		msg += fmt.Sprintf(" (openid-configuration %q)", e.OpenIDConfiguration)
	}
	msg += ": " + brokerstatus.Hint(e.Status)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *RejectedError) Unwrap() error { return e.Err }
