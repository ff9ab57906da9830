package oauthclient

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Errors of a field are *oauthbearer.OptionError values listing the fields their
// message names, so that a translator (clientprops) can rename them.
func TestOptionErrorListsTheFieldsItNames(t *testing.T) {
	t.Parallel()
	_, err := NewJWTBearer(&JWTBearerOptions{TokenURL: "https://idp.example/token"})
	oe, ok := errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "oauthclient.JWTBearerOptions", oe.Options)
	assert.Equal(t, []string{"Assertion", "AssertionFile"}, oe.Fields)
	assert.Contains(t, err.Error(), "neither JWTBearerOptions.Assertion nor JWTBearerOptions.AssertionFile")

	_, err = NewJWTBearer(&JWTBearerOptions{TokenURL: "https://idp.example/token", Assertion: &AssertionOptions{PrivateKeyFile: "k.pem"}})
	oe, ok = errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "oauthclient.JWTBearerOptions", oe.Options)
	assert.Equal(t, []string{"Assertion.PrivateKeyFile"}, oe.Fields)
	assert.Contains(t, err.Error(), "JWTBearerOptions.Assertion.PrivateKeyFile")

	missing := filepath.Join(t.TempDir(), "key.pem")
	_, err = NewClientCredentials(&ClientCredentialsOptions{TokenURL: "https://idp.example/token", ClientID: "c",
		Assertion: &AssertionOptions{PrivateKeyFile: missing, Issuer: "c", Subject: "c"}})
	oe, ok = errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "oauthclient.ClientCredentialsOptions", oe.Options)
	assert.Equal(t, []string{"Assertion.PrivateKeyFile"}, oe.Fields)
	assert.Contains(t, err.Error(), "ClientCredentialsOptions.Assertion.PrivateKeyFile")
	assert.ErrorIs(t, err, fs.ErrNotExist, "the cause stays reachable")

	_, err = NewJWTBearer(&JWTBearerOptions{TokenURL: "http://idp.example/token", AssertionFile: "a.jwt"})
	oe, ok = errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, []string{"TokenURL"}, oe.Fields)
	assert.Contains(t, err.Error(), "JWTBearerOptions.TokenURL")
}
