package oauthclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	iss := idptest.NewIssuer(t, nil)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: iss,
		Clients: map[string]idptest.OAuthClient{
			"secret-client": {Secret: "p@ss+w/rd:x", Scopes: []string{"kafka"}},
			"rsa-client":    {PublicKey: &rsaKey.PublicKey},
			"ec-client":     {PublicKey: &ecKey.PublicKey},
		},
	})
	tests := map[string]struct {
		o       ClientCredentialsOptions
		errCode string
	}{
		"secret basic":        {o: ClientCredentialsOptions{ClientID: "secret-client", ClientSecret: "p@ss+w/rd:x", Scope: "kafka"}},
		"rsa private_key_jwt": {o: ClientCredentialsOptions{ClientID: "rsa-client", Assertion: &AssertionOptions{PrivateKey: rsaKey, KeyID: "k1"}}},
		"ec private_key_jwt":  {o: ClientCredentialsOptions{ClientID: "ec-client", Assertion: &AssertionOptions{PrivateKey: ecKey}}},
		"wrong secret":        {o: ClientCredentialsOptions{ClientID: "secret-client", ClientSecret: "hunter2"}, errCode: "invalid_client"},
		"raw basic with plus": {o: ClientCredentialsOptions{ClientID: "secret-client", ClientSecret: "p@ss+w/rd:x", RawBasicAuth: true}, errCode: "invalid_client"},
		"wrong key":           {o: ClientCredentialsOptions{ClientID: "ec-client", Assertion: &AssertionOptions{PrivateKey: otherKey}}, errCode: "invalid_client"},
		"bad scope":           {o: ClientCredentialsOptions{ClientID: "secret-client", ClientSecret: "p@ss+w/rd:x", Scope: "admin"}, errCode: "invalid_scope"},
		"wrong audience":      {o: ClientCredentialsOptions{ClientID: "rsa-client", Assertion: &AssertionOptions{PrivateKey: rsaKey, Audience: "https://elsewhere"}}, errCode: "invalid_client"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := tc.o
			o.TokenURL = srv.TokenURL
			src, err := NewClientCredentials(&o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			tok, err := src.Token(context.Background())
			if tc.errCode != "" {
				require.Error(t, err)
				var oe *Error
				require.True(t, errors.As(err, &oe), "%T %v", err, err)
				assert.Equal(t, tc.errCode, oe.Code)
				assert.False(t, oauthbearer.IsTransient(err))
				assert.NotContains(t, err.Error(), "hunter2")
				assert.NotContains(t, err.Error(), "p@ss")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, o.ClientID, tok.Principal)
			assert.False(t, tok.Expiry.IsZero())
		})
	}
}

func TestClientCredentialsTransient(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: iss, Clients: map[string]idptest.OAuthClient{"c": {Secret: "s"}},
	})
	srv.FailNext(1, idptest.Fault{Status: 502})
	src, err := NewClientCredentials(&ClientCredentialsOptions{TokenURL: srv.TokenURL, ClientID: "c", ClientSecret: "s",
		Cache: &oauthbearer.CacheOptions{MinBackoff: 1, MaxBackoff: 1}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err))
	// The next call succeeds once the (tiny) backoff has passed.
	require.Eventually(t, func() bool { _, err := src.Token(context.Background()); return err == nil }, 5e9, 1e6)
}

func TestClientCredentialsOptionsValidation(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	tests := map[string]struct {
		o    *ClientCredentialsOptions
		want string
	}{
		"nil":          {nil, "TokenURL is empty"},
		"no client":    {&ClientCredentialsOptions{TokenURL: "https://idp/t"}, "ClientID is empty"},
		"no auth":      {&ClientCredentialsOptions{TokenURL: "https://idp/t", ClientID: "a"}, "none of AssertionFile, Assertion and ClientSecret"},
		"p521":         {&ClientCredentialsOptions{TokenURL: "https://idp/t", ClientID: "a", Assertion: &AssertionOptions{PrivateKey: k}}, "ClientCredentialsOptions.Assertion.PrivateKey is an ECDSA P-521 key; it must be RSA (RS256) or ECDSA on P-256 (ES256) or P-384 (ES384)"},
		"http remote":  {&ClientCredentialsOptions{TokenURL: "http://idp/t", ClientID: "a", ClientSecret: "hunter2"}, "https"},
		"userinfo url": {&ClientCredentialsOptions{TokenURL: "ftp://u:hunter2@idp/t", ClientID: "a", ClientSecret: "x"}, "https"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewClientCredentials(tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}
