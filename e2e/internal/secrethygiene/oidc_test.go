package secrethygiene

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// keyPassphrase decrypts the encrypted PKCS#8 key of the jwt-bearer cases.
const keyPassphrase = "oidc-key-passphrase-0123456789"

// TestOIDCSourcesHygiene runs the token-file source and the RFC 7523
// jwt-bearer grant through their successes and failures (missing, empty,
// expired and non-JWT files; a wrong key, a wrong passphrase, an expired
// or replayed assertion file, an identity provider that echoes the
// request) and client.properties files using Kafka's keys for both, and
// checks that the file's token, the private key (PEM, DER, encrypted PEM),
// its passphrase, the assertions sent and the tokens issued appear in no
// log record at debug level, error, or encoder output of options,
// configuration or source.
//
// Fails without JWTBearerOptions.MarshalText (encoding/json walks into
// the RSA key: "private key D (decimal)" leaks) and when jwtfile quotes a
// file it could not parse ("opaque token in the file" and "corrupt token
// file content" leak); both mutations were run.
func TestOIDCSourcesHygiene(t *testing.T) {
	c := newCollector()
	iss := idptest.NewIssuer(t, nil)
	t.Run("token file", func(t *testing.T) { tokenFileHygiene(t, c, iss) })
	t.Run("jwt-bearer", func(t *testing.T) { jwtBearerHygiene(t, c, iss) })
	c.check(t)
}

func tokenFileHygiene(t *testing.T, c *collector, iss *idptest.Issuer) {
	dir := t.TempDir()
	n := 0
	file := func(content string) string {
		n++
		p := filepath.Join(dir, "token-"+string(rune('a'+n)))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	src := func(path string) *oauthbearer.Cache {
		o := tokenfile.Options{Path: path, Cache: fastCache(c)}
		c.value(o)
		s, err := tokenfile.New(&o)
		require.NoError(t, err)
		return s
	}
	good := iss.Mint("system:serviceaccount:orders:writer", "kafka", time.Hour, nil)
	c.secret("token file content", good)
	use(t, c, "token file", src(file(good+"\n")))

	expired := iss.Mint("system:serviceaccount:orders:writer", "kafka", -time.Hour, nil)
	c.secret("expired token file content", expired)
	useErr(t, c, "token file expired", src(file(expired)))
	noExp := iss.Sign(map[string]any{"iss": iss.IssuerURL, "sub": "no-exp-subject", "aud": "kafka", "secretish": "claim-value-0123456789abcdef"})
	c.secret("token without exp", noExp)
	useErr(t, c, "token file no exp", src(file(noExp)))
	// Not a JWT: an opaque bearer token, a JWT with a corrupted payload,
	// a JWT followed by another line. None may be quoted back.
	const opaque = "opaque-bearer-token-0123456789abcdefghij"
	c.secret("opaque token in the file", opaque)
	useErr(t, c, "token file opaque", src(file(opaque)))
	parts := strings.Split(good, ".")
	corrupt := parts[0] + "." + parts[1][:len(parts[1])-3] + "!!!" + "." + parts[2]
	c.secret("corrupt token file content", corrupt)
	useErr(t, c, "token file corrupt", src(file(corrupt)))
	useErr(t, c, "token file two lines", src(file(good+"\n"+opaque+"\n")))
	useErr(t, c, "token file empty", src(file(" \n")))
	useErr(t, c, "token file missing", src(filepath.Join(dir, "not-there")))

	// client.properties with Kafka's file: token endpoint.
	path := file(good)
	cfg, err := clientprops.Parse(strings.NewReader(`bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.FileJwtRetriever
sasl.oauthbearer.token.endpoint.url=file:` + path + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`))
	require.NoError(t, err)
	c.value(cfg)
	c.value(cfg.Source)
	es, err := cfg.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{"file:" + path}})
	require.NoError(t, err)
	tok, err := es.Token(tctx(t))
	require.NoError(t, err)
	c.value(tok)
	c.value(es)
	require.NoError(t, es.Close())
}

func jwtBearerHygiene(t *testing.T, c *collector, iss *idptest.Issuer) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	plainPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	encPEM := testpki.EncryptPKCS8(t, der, keyPassphrase)
	c.secret("private key (PKCS#8, base64)", base64.StdEncoding.EncodeToString(der))
	c.secret("private key (PKCS#1, base64)", base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key)))
	c.secret("private key D (decimal)", key.D.String())
	c.secret("private key prime (decimal)", key.Primes[0].String())
	c.secret("private key D (hex)", key.D.Text(16))
	c.secret("encrypted private key (base64)", strings.Join(strings.Split(string(encPEM), "\n")[1:3], ""))
	c.secret("key passphrase", keyPassphrase)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	plainFile, encFile := write("key.pem", plainPEM), write("key-enc.pem", encPEM)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	c.secret("other private key D (decimal)", other.D.String())

	s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, Audience: "kafka",
		Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}}})
	hc := recording(c, s.Client(), "assertion", "jwt-bearer assertion")
	jb := func(o oauthclient.JWTBearerOptions) *oauthbearer.Cache {
		o.TokenURL, o.HTTPClient, o.Cache = s.TokenURL, hc, fastCache(c)
		if o.Assertion != nil {
			o.Assertion.Issuer, o.Assertion.Subject = "orders-svc", "orders-svc"
		}
		c.value(o)
		src, err := oauthclient.NewJWTBearer(&o)
		require.NoError(t, err)
		return src
	}
	use(t, c, "jwt-bearer key", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: key}}))
	use(t, c, "jwt-bearer key file", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: plainFile}}))
	use(t, c, "jwt-bearer encrypted key file", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: encFile, PrivateKeyPassphrase: keyPassphrase}}))
	useErr(t, c, "jwt-bearer wrong key", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: other}}))
	s.FailNext(1, idptest.Fault{Echo: true})
	echoErr(t, c, "jwt-bearer echo", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: key}}))
	s.FailNext(1, idptest.Fault{Echo: true, Status: http.StatusUnauthorized})
	echoErr(t, c, "jwt-bearer echo encrypted key", jb(oauthclient.JWTBearerOptions{Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: encFile, PrivateKeyPassphrase: keyPassphrase}}))

	// Construction errors: a wrong passphrase, a key file that is not a
	// key (the passphrase itself, by mistake).
	for name, o := range map[string]oauthclient.JWTBearerOptions{
		"wrong passphrase":  {Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: encFile, PrivateKeyPassphrase: keyPassphrase + "-wrong"}},
		"no passphrase":     {Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: encFile}},
		"not a key":         {Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: write("not-a-key.pem", []byte(keyPassphrase+"\n"))}},
		"pem in a template": {Assertion: &oauthclient.AssertionOptions{PrivateKey: key, TemplateFile: write("template.json", plainPEM)}},
	} {
		o.TokenURL, o.Assertion.Issuer, o.Assertion.Subject = s.TokenURL, "orders-svc", "orders-svc"
		c.value(o)
		_, err := oauthclient.NewJWTBearer(&o)
		require.Error(t, err, name)
		c.err(err)
	}
	c.secret("wrong key passphrase", keyPassphrase+"-wrong")

	// Assertion files: one used once and then replayed (same jti), one
	// expired.
	signed := signAssertion(t, key, s.TokenURL, time.Minute)
	c.secret("assertion file content", signed)
	af := write("assertion.jwt", []byte(signed))
	use(t, c, "jwt-bearer assertion file", jb(oauthclient.JWTBearerOptions{AssertionFile: af}))
	useErr(t, c, "jwt-bearer replayed assertion file", jb(oauthclient.JWTBearerOptions{AssertionFile: af}))
	expired := signAssertion(t, key, s.TokenURL, -time.Minute)
	c.secret("expired assertion file content", expired)
	useErr(t, c, "jwt-bearer expired assertion file", jb(oauthclient.JWTBearerOptions{AssertionFile: write("expired.jwt", []byte(expired))}))

	// client.properties with Kafka's assertion keys and the passphrase.
	props := func(extra string) string {
		return `bootstrap.servers=kafka:9093
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever
sasl.oauthbearer.token.endpoint.url=` + s.TokenURL + `
sasl.oauthbearer.assertion.private.key.file=` + encFile + `
sasl.oauthbearer.assertion.claim.iss=orders-svc
sasl.oauthbearer.assertion.claim.sub=orders-svc
sasl.oauthbearer.assertion.claim.aud=` + s.TokenURL + `
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
` + extra
	}
	cfg, err := clientprops.Parse(strings.NewReader(props("sasl.oauthbearer.assertion.private.key.passphrase=" + keyPassphrase + "\n")))
	require.NoError(t, err)
	c.value(cfg)
	c.value(cfg.Source)
	es, err := cfg.NewSource(&clientprops.BuildOptions{HTTPClient: hc, AllowedURLs: []string{s.TokenURL}, AllowedFiles: []string{encFile}})
	require.NoError(t, err)
	tok, err := es.Token(tctx(t))
	require.NoError(t, err)
	c.value(tok)
	c.value(es)
	require.NoError(t, es.Close())
	for _, bad := range []string{
		props("sasl.oauthbearer.assertion.private.key.passphrase=" + keyPassphrase + "-wrong\n"),
		props("sasl.oauthbearer.assertion.private.key.passphrase=" + keyPassphrase + "\nsasl.oauthbearer.assertion.algorithm=ES256\n"),
		props("sasl.oauthbearer.assertion.private.key.passphrase=" + keyPassphrase + "\nsasl.oauthbearer.assertion.claim.exp.seconds=" + keyPassphrase + "\n"),
	} {
		cfg, err := clientprops.Parse(strings.NewReader(bad))
		if err == nil {
			c.value(cfg)
			_, err = cfg.NewSource(&clientprops.BuildOptions{HTTPClient: hc, AllowedURLs: []string{s.TokenURL}, AllowedFiles: []string{encFile}})
		}
		require.Error(t, err)
		c.err(err)
	}
}

// signAssertion signs an RFC 7523 assertion for orders-svc with key, as a
// job that pre-generates assertion files would.
func signAssertion(t *testing.T, key *rsa.PrivateKey, aud string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return signRS256(t, key, map[string]any{"iss": "orders-svc", "sub": "orders-svc", "aud": aud,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": base64.RawURLEncoding.EncodeToString(b)})
}

// signRS256 signs claims as a compact JWS with RS256.
func signRS256(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	require.NoError(t, err)
	body, err := json.Marshal(claims)
	require.NoError(t, err)
	in := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
