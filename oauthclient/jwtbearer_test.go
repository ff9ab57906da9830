package oauthclient

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const testPassphrase = "correct-horse-battery"

// encryptPKCS8 writes an "ENCRYPTED PRIVATE KEY" block the way openssl
// pkcs8 -topk8 -v2 aes256 -v2prf hmacWithSHA256 does.
func encryptPKCS8(t *testing.T, der []byte, pass string) []byte {
	t.Helper()
	salt, iv := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	key, err := pbkdf2.Key(sha256.New, pass, salt, 2048, 32)
	require.NoError(t, err)
	n := aes.BlockSize - len(der)%aes.BlockSize
	pt := append(append([]byte{}, der...), make([]byte, n)...)
	for i := len(der); i < len(pt); i++ {
		pt[i] = byte(n)
	}
	blk, _ := aes.NewCipher(key)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, pt)
	kdf, _ := asn1.Marshal(struct {
		Salt []byte
		Iter int
		PRF  pkix
	}{salt, 2048, pkix{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}})
	ivDER, _ := asn1.Marshal(iv)
	params, _ := asn1.Marshal(pbes2Params{
		KDF:    pkix{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Scheme: pkix{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{Algo: pkix{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, Data: ct})
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

type bearerFixture struct {
	srv      *idptest.OAuthServer
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	dir      string
	pkcs8    string // RSA, PKCS#8
	pkcs1    string // RSA, PKCS#1
	sec1     string // EC, SEC1
	enc      string // RSA, encrypted PKCS#8
	template string
}

func newBearerFixture(t *testing.T) *bearerFixture {
	t.Helper()
	f := &bearerFixture{dir: t.TempDir()}
	var err error
	f.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	f.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p8, _ := x509.MarshalPKCS8PrivateKey(f.rsaKey)
	ec, _ := x509.MarshalECPrivateKey(f.ecKey)
	f.pkcs8 = writeFile(t, f.dir, "rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	f.pkcs1 = writeFile(t, f.dir, "rsa1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(f.rsaKey)}))
	f.sec1 = writeFile(t, f.dir, "ec.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ec}))
	f.enc = writeFile(t, f.dir, "enc.pem", encryptPKCS8(t, p8, testPassphrase))
	f.template = writeFile(t, f.dir, "template.json", []byte(`{"header":{"kid":"k-2025"},"payload":{"sub":"orders-reader","tenant":"t1"}}`))
	f.srv = idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{
			"svc-rsa": {PublicKey: &f.rsaKey.PublicKey, Subjects: []string{"orders-reader"}},
			"svc-ec":  {PublicKey: &f.ecKey.PublicKey},
		},
	})
	return f
}

// Assertions built from a private key (PEM in each supported form, or a
// crypto.Signer), signed RS256 or ES256, are accepted by a strict RFC 7523
// server; a template's claims are merged as Kafka merges them.
func TestJWTBearerKeyBuilt(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	tests := map[string]struct {
		o       JWTBearerOptions
		wantSub string
	}{
		"pkcs8 file RS256":     {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8, Issuer: "svc-rsa", Subject: "svc-rsa", Algorithm: "RS256"}}, wantSub: "svc-rsa"},
		"pkcs1 file":           {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs1, Issuer: "svc-rsa", Subject: "svc-rsa"}}, wantSub: "svc-rsa"},
		"sec1 file ES256":      {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.sec1, Issuer: "svc-ec", Subject: "svc-ec", Algorithm: "ES256"}}, wantSub: "svc-ec"},
		"encrypted pkcs8":      {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.enc, PrivateKeyPassphrase: testPassphrase, Issuer: "svc-rsa", Subject: "svc-rsa"}}, wantSub: "svc-rsa"},
		"signer":               {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: f.ecKey, Issuer: "svc-ec", Subject: "svc-ec"}}, wantSub: "svc-ec"},
		"template sets sub":    {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKeyFile: f.pkcs8, Issuer: "svc-rsa", Subject: "svc-rsa", TemplateFile: f.template}}, wantSub: "orders-reader"},
		"no jti (Kafka's way)": {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: f.ecKey, Issuer: "svc-ec", Subject: "svc-ec", OmitJTI: true}}, wantSub: "svc-ec"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := tc.o
			o.TokenURL = f.srv.TokenURL
			src, err := NewJWTBearer(&o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.wantSub, tok.Principal)
		})
	}
}

// A pre-generated assertion read from a file is accepted once; the same
// file sent again carries the same jti and is refused as a replay, and a
// rewritten file (new jti) is accepted without a restart.
func TestJWTBearerAssertionFile(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	mint := func(jti string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": "svc-rsa", "sub": "svc-rsa", "aud": f.srv.TokenURL, "jti": jti,
			"exp": time.Now().Add(5 * time.Minute).Unix(), "iat": time.Now().Unix(),
		})
		s, err := tok.SignedString(f.rsaKey)
		require.NoError(t, err)
		return s
	}
	first := mint("one")
	path := writeFile(t, f.dir, "assertion.jwt", []byte(first+"\n"))
	src, err := NewJWTBearer(&JWTBearerOptions{TokenURL: f.srv.TokenURL, AssertionFile: path, Cache: &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "svc-rsa", tok.Principal)

	// The broker rejects the token: the cache fetches again with the same
	// file, whose jti the server has seen. Fails if the emulator does not
	// track jti.
	src.Invalidate(tok)
	_, err = src.Token(context.Background())
	var oe *Error
	require.True(t, errors.As(err, &oe), "%v", err)
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Contains(t, oe.Description, "jti was already used")
	assert.NotContains(t, err.Error(), first)

	require.NoError(t, os.WriteFile(path, []byte(mint("two")), 0o600))
	require.Eventually(t, func() bool { _, err := src.Token(context.Background()); return err == nil }, 10*time.Second, time.Millisecond)
}

// The server refuses an assertion signed with a key it does not know, and
// one whose exp has passed; neither the key, the passphrase nor the
// assertion appears in the error.
func TestJWTBearerRefused(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	clock := fakeclock.New(time.Now().Add(-10 * time.Minute)) // exp = now - 5m
	tests := map[string]struct {
		o    JWTBearerOptions
		desc string
	}{
		"wrong key":      {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: other, Issuer: "svc-rsa", Subject: "svc-rsa"}}, desc: "verification error"},
		"expired":        {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: f.rsaKey, Issuer: "svc-rsa", Subject: "svc-rsa"}, Cache: &oauthbearer.CacheOptions{Clock: clock}}, desc: "expired"},
		"unknown sub":    {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: f.rsaKey, Issuer: "svc-rsa", Subject: "admin"}}, desc: "sub"},
		"wrong audience": {o: JWTBearerOptions{Assertion: &AssertionOptions{PrivateKey: f.rsaKey, Issuer: "svc-rsa", Subject: "svc-rsa", Audience: "https://elsewhere/token"}}, desc: "aud"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := tc.o
			o.TokenURL = f.srv.TokenURL
			src, err := NewJWTBearer(&o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			_, err = src.Token(context.Background())
			var oe *Error
			require.True(t, errors.As(err, &oe), "%v", err)
			assert.Equal(t, "invalid_grant", oe.Code)
			assert.Contains(t, oe.Description, tc.desc)
			assert.NotContains(t, err.Error(), "eyJ")
			assert.Contains(t, err.Error(), "troubleshooting.md#oauth-invalid-grant")
		})
	}
}

// Construction fails early, naming the option, for a wrong passphrase, a
// missing key file, an algorithm that does not match the key, and no or
// two assertion sources or keys; each error names the field by its path
// (JWTBearerOptions.Assertion.PrivateKeyFile), and the passphrase never
// appears.
func TestJWTBearerOptionsValidation(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	u := f.srv.TokenURL
	tests := map[string]struct {
		o    JWTBearerOptions
		want string
		is   error
	}{
		"wrong passphrase":  {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKeyFile: f.enc, PrivateKeyPassphrase: "hunter2-wrong", Issuer: "a", Subject: "a"}}, is: ErrPassphrase},
		"no passphrase":     {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKeyFile: f.enc, Issuer: "a", Subject: "a"}}, is: ErrPassphrase},
		"missing key":       {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKeyFile: filepath.Join(f.dir, "nope.pem"), Issuer: "a", Subject: "a"}}, want: "JWTBearerOptions.Assertion.PrivateKeyFile"},
		"alg mismatch":      {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKeyFile: f.sec1, Algorithm: "RS256", Issuer: "a", Subject: "a"}}, want: "JWTBearerOptions.Assertion.Algorithm is \"RS256\""},
		"none":              {o: JWTBearerOptions{TokenURL: u}, want: "neither JWTBearerOptions.Assertion nor JWTBearerOptions.AssertionFile is set"},
		"two":               {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKey: f.ecKey}, AssertionFile: f.pkcs8}, want: "both JWTBearerOptions.Assertion and JWTBearerOptions.AssertionFile are set"},
		"no key":            {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{Issuer: "a", Subject: "a"}}, want: "neither JWTBearerOptions.Assertion.PrivateKey nor JWTBearerOptions.Assertion.PrivateKeyFile is set"},
		"key twice":         {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKey: f.ecKey, PrivateKeyFile: f.sec1, Issuer: "a", Subject: "a"}}, want: "both JWTBearerOptions.Assertion.PrivateKey and JWTBearerOptions.Assertion.PrivateKeyFile are set"},
		"negative lifetime": {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKey: f.ecKey, Issuer: "a", Subject: "a", Lifetime: -time.Second}}, want: "JWTBearerOptions.Assertion.Lifetime is -1s"},
		"no iss":            {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKey: f.ecKey}}, want: "JWTBearerOptions.Assertion.Issuer and JWTBearerOptions.Assertion.Subject must both be set"},
		"http remote":       {o: JWTBearerOptions{TokenURL: "http://idp.example/token", Assertion: &AssertionOptions{PrivateKey: f.ecKey}}, want: "https"},
		"not pem":           {o: JWTBearerOptions{TokenURL: u, Assertion: &AssertionOptions{PrivateKeyFile: f.template, Issuer: "a", Subject: "a"}}, want: "no PEM private key"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewJWTBearer(&tc.o)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.NotContains(t, err.Error(), testPassphrase)
			if strings.Contains(name, "pass") || name == "missing key" || name == "alg mismatch" || name == "not pem" {
				assert.Contains(t, err.Error(), "troubleshooting.md#jwt-bearer-key")
			}
		})
	}
}

// A key that parses but cannot sign (crypto/rsa refuses 512-bit keys at
// signing time) fails the fetch with an error naming the field the key
// came from: PrivateKeyFile for a key file, PrivateKey for a key in
// code. Fails before sign named PrivateKey for both.
func TestSigningFailureNamesTheKeyField(t *testing.T) {
	t.Parallel()
	weak := testpki.WeakRSAKey(t)
	file := testpki.KeyFile(t, filepath.Join(t.TempDir(), "weak.pem"), weak)
	for field, a := range map[string]*AssertionOptions{
		"PrivateKeyFile": {PrivateKeyFile: file, Issuer: "a", Subject: "a"},
		"PrivateKey":     {PrivateKey: weak, Issuer: "a", Subject: "a"},
	} {
		src, err := NewJWTBearer(&JWTBearerOptions{TokenURL: "https://idp.example/token", Assertion: a})
		require.NoError(t, err, "the key parses and its algorithm is known")
		_, err = src.Token(context.Background())
		require.Error(t, err)
		oe, ok := errors.AsType[*oauthbearer.OptionError](err)
		require.True(t, ok, "%T: %v", err, err)
		assert.Equal(t, []string{"Assertion." + field}, oe.Fields)
		assert.Contains(t, err.Error(), "signing the assertion failed (*rsa.PrivateKey); check JWTBearerOptions.Assertion."+field)
		assert.NotContains(t, err.Error(), "Assertion."+field+"File", "only the field the key came from")
		require.NoError(t, src.Close())
	}
}

// Options holding an *AssertionOptions print and encode with its key and
// passphrase redacted under every fmt verb and encoder. Fails without
// AssertionOptions.Format: %s and %q print the AssertionOptions behind
// the pointer with Secret's Format off, the passphrase in clear.
func TestOptionsWithAssertionNeverPrintTheKey(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	raw, err := key.Bytes()
	require.NoError(t, err)
	d := new(big.Int).SetBytes(raw).String() // as fmt and encoders print the scalar
	a := &AssertionOptions{PrivateKey: key, PrivateKeyPassphrase: "hunter2-pass", Issuer: "svc"}
	jb := JWTBearerOptions{TokenURL: "https://idp.example/token?secret=q", Assertion: a}
	cc := ClientCredentialsOptions{TokenURL: "https://idp.example/token?secret=q", ClientSecret: "hunter2-secret", Assertion: a}
	for _, o := range [][2]any{{jb, &jb}, {cc, &cc}} {
		var said []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			said = append(said, fmt.Sprintf(verb, o[0]), fmt.Sprintf(verb, o[1]))
		}
		b, err := json.Marshal(o[0])
		require.NoError(t, err)
		assert.NotContains(t, string(b), "secret=q", "MarshalText redacts the URL's query")
		for _, s := range append(said, string(b)) {
			assert.Contains(t, s, "redacted *ecdsa.PrivateKey") // json escapes < and >
			assert.Contains(t, s, "svc")
			assert.NotContains(t, s, "hunter2")
			assert.NotContains(t, s, d)
		}
	}
}

// A token's expiry counts its expires_in from the cache's clock, as the
// cache measures it, for both grants: with a clock two minutes behind
// the system's, the expiry is that clock's now plus the server's hour.
func TestExpiryOnTheCacheClock(t *testing.T) {
	t.Parallel()
	f := newBearerFixture(t)
	cc := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: idptest.NewIssuer(t, nil), Clients: map[string]idptest.OAuthClient{"c": {Secret: "s"}},
	})
	for name, build := range map[string]func(*oauthbearer.CacheOptions) (*oauthbearer.Cache, error){
		"jwt-bearer": func(c *oauthbearer.CacheOptions) (*oauthbearer.Cache, error) {
			return NewJWTBearer(&JWTBearerOptions{TokenURL: f.srv.TokenURL, Assertion: &AssertionOptions{PrivateKey: f.ecKey, Issuer: "svc-ec", Subject: "svc-ec"}, Cache: c})
		},
		"client credentials": func(c *oauthbearer.CacheOptions) (*oauthbearer.Cache, error) {
			return NewClientCredentials(&ClientCredentialsOptions{TokenURL: cc.TokenURL, ClientID: "c", ClientSecret: "s", Cache: c})
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := fakeclock.New(time.Now().Add(-2 * time.Minute))
			src, err := build(&oauthbearer.CacheOptions{Clock: clock})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, clock.Now().Add(time.Hour), tok.Expiry)
		})
	}
}
