package oauthbearer_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// The one option error type carries any package's options: its message
// is Err's, Err and its cause are reachable, and a value built without
// an Err still has a message instead of a panic.
func TestOptionErrorIsItsErr(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("oauthclient: JWTBearerOptions.AssertionFile \"a.jwt\": %w", fs.ErrNotExist)
	var err error = &oauthbearer.OptionError{Options: "oauthclient.JWTBearerOptions", Fields: []string{"AssertionFile"}, Err: cause}
	assert.Equal(t, cause.Error(), err.Error())
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Same(t, cause, errors.Unwrap(err))

	assert.Equal(t, "oauthbearer: saramasasl.Options: invalid FetchTimeout", (&oauthbearer.OptionError{Options: "saramasasl.Options", Fields: []string{"FetchTimeout"}}).Error())
}
