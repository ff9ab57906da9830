package fetchrec_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
)

// moduleErr stands for a module error type (RejectedError, azure.Error,
// oauthbearer.OptionError): exported and unexported fields that quote
// what a library said.
type moduleErr struct {
	Server string
	Err    error
	resp   *http.Response
	cause  error
	all    []error
}

func (e *moduleErr) Error() string { return "module: " + e.Server + ": " + e.Err.Error() }
func (e *moduleErr) Unwrap() error { return e.cause }

// walk returns every text reachable from err through Unwrap (single and
// multiple) and the fields of *moduleErr found by errors.As.
func walk(err error) string {
	if err == nil {
		return ""
	}
	out := err.Error() + fmt.Sprintf("|%+v|%#v|", err, err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out += walk(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out += walk(e)
		}
	}
	var m *moduleErr
	if errors.As(err, &m) && m != err {
		out += m.Server + walk(m.Err) + walk(m.cause) + fmt.Sprint(m.resp)
		for _, e := range m.all {
			out += walk(e)
		}
	}
	return out
}

// TestSealedChainHoldsNoSecret: nothing reachable from a scrubbed error
// quotes what the fetch sent, while errors.Is still matches sentinels and
// errors.As still reaches the module's own types.
//
// fails before Seal: the scrubbed error unwrapped to the raw one, so
// errors.As(err, &pathErr) handed out fs.PathError with the secret in its
// Path, and *moduleErr's Err and cause quoted it.
func TestSealedChainHoldsNoSecret(t *testing.T) {
	t.Parallel()
	r := fetchrec.New()
	r.Add(secret)
	raw := &fs.PathError{Op: "post", Path: "/token?client_secret=" + secret, Err: context.DeadlineExceeded}
	inner := fmt.Errorf("library said %s: %w", secret, raw)
	me := &moduleErr{Server: "idp " + secret, Err: inner, cause: inner, resp: &http.Response{Status: secret},
		all: []error{inner, errors.New(secret)}}
	err := fetchrec.Error(fmt.Errorf("aws: %w", me), r)

	assert.NotContains(t, walk(err), secret)
	assert.Nil(t, errors.Unwrap(err), "no Unwrap to the raw chain")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "sentinels still match")

	var pe *fs.PathError
	assert.False(t, errors.As(err, &pe), "a foreign type is not handed out")
	assert.Nil(t, pe)

	var m *moduleErr
	require.True(t, errors.As(err, &m), "the module's own type is")
	assert.NotSame(t, me, m, "as a copy")
	assert.Equal(t, "idp [redacted]", m.Server)
	assert.Nil(t, m.resp, "foreign references are cleared")
	assert.ErrorIs(t, m.Err, context.DeadlineExceeded)
	assert.NotContains(t, walk(m), secret)
	assert.Contains(t, me.Server, secret, "the original is untouched")

	var target interface{ Unwrap() error }
	assert.False(t, errors.As(err, &target), "an interface declared elsewhere reaches nothing")

	again := fetchrec.Error(err, fetchrec.New(), "held-token-value-xyz")
	assert.ErrorIs(t, again, context.DeadlineExceeded)
	require.True(t, errors.As(again, &m))
	assert.NotContains(t, walk(again), secret, "sealing again keeps the first scrub")
}
