package oauthclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// signedFile writes a client assertion for client, signed with the
// fixture's RSA key, as a tool that pre-generates assertions would.
func (f *bearerFixture) signedFile(t *testing.T, name, client, aud string) string {
	t.Helper()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	now := time.Now()
	a, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": client, "sub": client, "aud": aud, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	}).SignedString(f.rsaKey)
	require.NoError(t, err)
	return writeFile(t, f.dir, name, []byte(a+"\n"))
}

// KIP-1258: the client-credentials grant authenticates with a
// pre-generated assertion file, else a locally signed assertion, else the
// client secret, in that order, as Kafka 4.4's
// ClientCredentialsRequestFormatterFactory picks; a strict server accepts
// each, and a secret given beside an assertion is not sent.
func TestClientCredentialsAssertionPrecedence(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	const file = "<a fresh assertion file>" // one per case: a jti is single-use
	tests := map[string]struct {
		o        ClientCredentialsOptions
		wantWarn bool
		errCode  string
	}{
		"file":                   {o: ClientCredentialsOptions{AssertionFile: file}},
		"file beside a secret":   {o: ClientCredentialsOptions{ClientID: "svc-rsa", AssertionFile: file, ClientSecret: "hunter2"}},
		"signed from a key file": {o: ClientCredentialsOptions{ClientID: "svc-rsa", Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8, Algorithm: "RS256"}}},
		"signed, encrypted key, secret ignored": {o: ClientCredentialsOptions{ClientID: "svc-rsa", ClientSecret: "hunter2",
			Assertion: &AssertionOptions{PrivateKeyFile: f.enc, PrivateKeyPassphrase: testPassphrase}}},
		"signed EC key, claims given": {o: ClientCredentialsOptions{Assertion: &AssertionOptions{PrivateKey: f.ecKey, Issuer: "svc-ec", Subject: "svc-ec"}}},
		// The file wins: the signing settings name a key the server does
		// not know, so success proves they were not used.
		"both: file wins": {o: ClientCredentialsOptions{ClientID: "svc-rsa", AssertionFile: file,
			Assertion: &AssertionOptions{PrivateKey: f.ecKey}}, wantWarn: true},
		// Kafka's default (claim.jti.include=false) against a server that,
		// like Keycloak and Okta, requires a jti.
		"signed without jti": {o: ClientCredentialsOptions{ClientID: "svc-rsa", Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8, OmitJTI: true}}, errCode: "invalid_client"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			o := tc.o
			o.TokenURL = f.srv.TokenURL
			if o.AssertionFile == file {
				o.AssertionFile = f.signedFile(t, strings.NewReplacer(" ", "_", ":", "", ",", "").Replace(name)+".jwt", "svc-rsa", o.TokenURL)
			}
			o.Cache = &oauthbearer.CacheOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			src, err := NewClientCredentials(&o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			if tc.wantWarn {
				assert.Contains(t, logs.String(), "level=WARN")
				assert.Contains(t, logs.String(), "sasl.oauthbearer.assertion.file")
			} else {
				assert.NotContains(t, logs.String(), "both")
			}
			tok, err := src.Token(context.Background())
			if tc.errCode != "" {
				var oe *Error
				require.True(t, errors.As(err, &oe), "%v", err)
				assert.Equal(t, tc.errCode, oe.Code)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, tok.Principal)
			assert.NotContains(t, logs.String(), "hunter2")
			assert.NotContains(t, logs.String(), testPassphrase)
		})
	}
}

// A file assertion is read on every fetch: whatever writes it rotates it.
func TestClientCredentialsAssertionFileReread(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	path := f.signedFile(t, "a.jwt", "svc-rsa", f.srv.TokenURL)
	src, err := NewClientCredentials(&ClientCredentialsOptions{TokenURL: f.srv.TokenURL, AssertionFile: path})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	// The same file again would be a replayed jti, which the server
	// refuses: the second token proves the rotated file was read.
	f.signedFile(t, "a.jwt", "svc-rsa", f.srv.TokenURL)
	src.Invalidate(tok)
	second, err := src.Token(context.Background())
	require.NoError(t, err)
	reqs := f.srv.Requests()
	require.Len(t, reqs, 2)
	for i, want := range []string{tok.Value, second.Value} {
		assert.Equal(t, "svc-rsa", reqs[i].ClientID)
		assert.Equal(t, want, reqs[i].Token)
	}
}

func TestClientCredentialsAssertionValidation(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(p521)
	require.NoError(t, err)
	p521File := writeFile(t, f.dir, "p521.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	tests := map[string]struct {
		o    ClientCredentialsOptions
		want string
	}{
		"P-521 key file":          {ClientCredentialsOptions{ClientID: "a", Assertion: &AssertionOptions{PrivateKeyFile: p521File}}, "ClientCredentialsOptions.Assertion.PrivateKeyFile is an ECDSA P-521 key"},
		"no key":                  {ClientCredentialsOptions{ClientID: "a", Assertion: &AssertionOptions{}}, "neither ClientCredentialsOptions.Assertion.PrivateKey nor ClientCredentialsOptions.Assertion.PrivateKeyFile is set"},
		"wrong passphrase":        {ClientCredentialsOptions{ClientID: "a", Assertion: &AssertionOptions{PrivateKeyFile: f.enc, PrivateKeyPassphrase: "hunter2"}}, "ClientCredentialsOptions.Assertion.PrivateKeyFile"},
		"algorithm mismatch":      {ClientCredentialsOptions{ClientID: "a", Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8, Algorithm: "ES256"}}, "Assertion.Algorithm"},
		"no issuer":               {ClientCredentialsOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8}}, "Issuer and ClientCredentialsOptions.Assertion.Subject must both be set"},
		"assertion file is a dir": {ClientCredentialsOptions{AssertionFile: f.dir}, "ClientCredentialsOptions.AssertionFile"},
		"tls auth with a secret":  {ClientCredentialsOptions{ClientID: "a", TLSClientAuth: true, ClientSecret: "hunter2"}, "the certificate is the credential"},
		"tls auth without client": {ClientCredentialsOptions{ClientID: "a", TLSClientAuth: true}, "ClientCredentialsOptions.HTTPClient must present the client certificate"},
		"tls auth without id":     {ClientCredentialsOptions{TLSClientAuth: true}, "ClientCredentialsOptions.ClientID is empty; tls_client_auth"},
		"no client id":            {ClientCredentialsOptions{ClientSecret: "hunter2"}, "ClientCredentialsOptions.ClientID is empty; set the OAuth client ID"},
		"no authentication":       {ClientCredentialsOptions{ClientID: "a"}, "has none of AssertionFile, Assertion and ClientSecret"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.o.TokenURL = f.srv.TokenURL
			_, err := NewClientCredentials(&tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
			oe, ok := errors.AsType[*oauthbearer.OptionError](err)
			if assert.True(t, ok, "%T is not an *oauthbearer.OptionError", err) {
				assert.Equal(t, "oauthclient.ClientCredentialsOptions", oe.Options)
				assert.NotEmpty(t, oe.Fields)
			}
		})
	}
	b, err := ClientCredentialsOptions{Assertion: &AssertionOptions{PrivateKey: f.ecKey, PrivateKeyPassphrase: "hunter2"}}.MarshalText()
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(b), "hunter2"))
	assert.Contains(t, string(b), "<redacted *ecdsa.PrivateKey>")
}
