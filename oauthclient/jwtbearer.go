package oauthclient

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/guide"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtfile"
	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// JWTBearerGrantType is the grant_type of the RFC 7523 section 2.1
// authorization grant.
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// JWTBearerOptions configures [NewJWTBearer], the RFC 7523 jwt-bearer
// authorization grant that Kafka's JwtBearerJwtRetriever performs
// (KIP-1139): the client sends a signed JWT, the assertion, and gets an
// access token for the assertion's subject. Set exactly one of
// PrivateKey, PrivateKeyFile and AssertionFile. Fields have no
// environment fallback.
type JWTBearerOptions struct {
	// TokenURL is the identity provider's token endpoint
	// (sasl.oauthbearer.token.endpoint.url). Required; https, or http to
	// a loopback host.
	TokenURL string

	// PrivateKey signs the assertions this source builds: *rsa.PrivateKey
	// (RS256) or *ecdsa.PrivateKey on P-256 (ES256) or P-384 (ES384).
	PrivateKey crypto.Signer

	// PrivateKeyFile is a PEM file with the private key
	// (sasl.oauthbearer.assertion.private.key.file): PKCS#8, PKCS#1, SEC1
	// or encrypted PKCS#8 (see [ParsePrivateKeyPEM]). It is read at
	// construction, to fail early, and again on every refresh, so a
	// rotated key is used without a restart.
	PrivateKeyFile string

	// PrivateKeyPassphrase decrypts an encrypted PrivateKeyFile
	// (sasl.oauthbearer.assertion.private.key.passphrase). It never
	// prints.
	PrivateKeyPassphrase Secret

	// AssertionFile is a file holding a pre-generated assertion
	// (sasl.oauthbearer.assertion.file), read on every refresh, so that
	// whatever writes it can rotate it. The claim fields and TemplateFile
	// do not apply.
	AssertionFile string

	// Algorithm is the assertion's "alg": "RS256", "ES256" or "ES384"
	// (sasl.oauthbearer.assertion.algorithm). Default: the one the key's
	// type and curve give. A mismatch with the key is an error.
	Algorithm string

	// KeyID is the assertion's "kid" header. Default: none (a template's
	// header may set one).
	KeyID string

	// Issuer, Subject and Audience are the assertion's iss, sub and aud
	// (sasl.oauthbearer.assertion.claim.iss, .sub, .aud). RFC 7523
	// requires all three; a TemplateFile may give them instead. Audience
	// defaults to TokenURL.
	Issuer, Subject, Audience string

	// Lifetime sets exp = now + Lifetime
	// (sasl.oauthbearer.assertion.claim.exp.seconds). Default 5m, as
	// Kafka.
	Lifetime time.Duration

	// NotBefore sets nbf = now - NotBefore
	// (sasl.oauthbearer.assertion.claim.nbf.seconds), to absorb clock
	// skew. Default 60s, as Kafka; negative means 0.
	NotBefore time.Duration

	// OmitJTI leaves out the random "jti" claim that every built
	// assertion otherwise carries so that servers can refuse a replay.
	// Kafka's sasl.oauthbearer.assertion.claim.jti.include defaults to
	// false; this package defaults to including it.
	OmitJTI bool

	// TemplateFile is a JSON file {"header": {...}, "payload": {...}} of
	// static header values and claims (sasl.oauthbearer.assertion.template.file),
	// read on every refresh. As in Kafka, its claims override Issuer,
	// Subject and Audience, and alg, typ, iat, exp, nbf and jti override
	// its values.
	TemplateFile string

	// Scope is the space-separated scope to request
	// (sasl.oauthbearer.scope). Default: none.
	Scope string

	// HTTPClient sends the requests; as for [ClientCredentialsOptions],
	// redirects are never followed. Default: a client with a 30s timeout
	// that keeps no idle connections.
	HTTPClient *http.Client

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "oauth jwt-bearer".
	Cache *oauthbearer.CacheOptions
}

// MarshalText encodes the options with the private key and passphrase
// redacted, so that no encoder walks into the key.
func (o JWTBearerOptions) MarshalText() ([]byte, error) {
	key := ""
	if o.PrivateKey != nil {
		key = fmt.Sprintf("<redacted %T>", o.PrivateKey)
	}
	return fmt.Appendf(nil, "oauthclient.JWTBearerOptions{TokenURL:%s, PrivateKey:%s, PrivateKeyFile:%q, PrivateKeyPassphrase:%s, AssertionFile:%q, Algorithm:%q, Issuer:%q, Subject:%q, Audience:%q, Scope:%q}",
		oauthpost.RedactURL(o.TokenURL), key, o.PrivateKeyFile, o.PrivateKeyPassphrase, o.AssertionFile, o.Algorithm, o.Issuer, o.Subject, o.Audience, o.Scope), nil
}

type jwtBearer struct {
	o   JWTBearerOptions
	now func() time.Time
}

// keyLimit bounds key and template files: a 4096-bit RSA key in PEM is
// about 3 KiB.
const keyLimit = boundedfile.TokenLimit

// NewJWTBearer returns a cached source of access tokens obtained with the
// RFC 7523 jwt-bearer grant: grant_type
// urn:ietf:params:oauth:grant-type:jwt-bearer, the assertion, and the
// scope if set, without client authentication, as Kafka sends them.
// Tokens take their expiry from expires_in, or else from the JWT's exp,
// and their principal from its sub. Errors never contain the key, the
// passphrase or the assertion.
func NewJWTBearer(opts *JWTBearerOptions) (*oauthbearer.Cache, error) {
	var o JWTBearerOptions
	if opts != nil {
		o = *opts
	}
	if o.TokenURL == "" {
		return nil, errors.New("oauthclient: JWTBearerOptions.TokenURL is empty; set the identity provider's token endpoint")
	}
	if err := idphttp.CheckEndpoint("oauthclient", "JWTBearerOptions.TokenURL", o.TokenURL); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{o.PrivateKey != nil, o.PrivateKeyFile != "", o.AssertionFile != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("oauthclient: JWTBearerOptions sets %d of PrivateKey, PrivateKeyFile and AssertionFile; set exactly one: a key to build assertions with, or a file holding one", n)
	}
	if o.Lifetime < 0 {
		return nil, fmt.Errorf("oauthclient: JWTBearerOptions.Lifetime is %s; it must be positive (0 means the default 5m)", o.Lifetime)
	}
	o.Lifetime = cmp.Or(o.Lifetime, 5*time.Minute)
	if o.NotBefore == 0 {
		o.NotBefore = time.Minute
	}
	o.NotBefore = max(o.NotBefore, 0)
	o.Audience = cmp.Or(o.Audience, o.TokenURL)
	s := &jwtBearer{o: o, now: time.Now}
	if o.AssertionFile != "" {
		if _, err := boundedfile.Check(o.AssertionFile); errors.Is(err, boundedfile.ErrNotRegular) {
			return nil, fmt.Errorf("oauthclient: JWTBearerOptions.AssertionFile %s: %w; point it at the assertion file itself", srvtext.Quote(o.AssertionFile, 0), err)
		}
	} else {
		key, err := s.key(context.Background())
		if err != nil {
			return nil, err
		}
		if _, err := s.method(key); err != nil {
			return nil, err
		}
		if o.TemplateFile == "" && (o.Issuer == "" || o.Subject == "") {
			return nil, errors.New("oauthclient: JWTBearerOptions needs Issuer and Subject (or a TemplateFile that sets iss and sub): RFC 7523 requires both in the assertion")
		}
		if o.TemplateFile != "" {
			if _, _, err := s.template(context.Background()); err != nil {
				return nil, err
			}
		}
	}
	o.HTTPClient = idphttp.Client(o.HTTPClient, "oauthclient")
	s.o.HTTPClient = o.HTTPClient
	c := cacheopts.WithName(o.Cache, "oauth jwt-bearer")
	if c.Clock != nil {
		s.now = c.Clock.Now
	}
	return oauthbearer.NewCache(s, c)
}

// Token performs one jwt-bearer request.
func (s *jwtBearer) Token(ctx context.Context) (oauthbearer.Token, error) {
	a, err := s.assertion(ctx)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	form := url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {a}}
	if s.o.Scope != "" {
		form.Set("scope", s.o.Scope)
	}
	start := time.Now()
	tr, err := oauthpost.PostForm(ctx, s.o.HTTPClient, "oauthclient", s.o.TokenURL, form, nil)
	if err != nil {
		return oauthbearer.Token{}, refused(err)
	}
	return tr.Token("oauthclient", start, oauthpost.RedactURL(s.o.TokenURL))
}

func (s *jwtBearer) assertion(ctx context.Context) (string, error) {
	if s.o.AssertionFile != "" {
		t, err := jwtfile.Read(ctx, "oauthclient", "JWTBearerOptions.AssertionFile", s.o.AssertionFile, s.now())
		if err != nil {
			return "", err
		}
		return t.Value, nil
	}
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	m, err := s.method(key)
	if err != nil {
		return "", err
	}
	// Layers as Kafka's LayeredAssertionJwtTemplate: options, then the
	// template file, then the dynamic values.
	hdr := map[string]any{}
	claims := jwt.MapClaims{}
	if s.o.KeyID != "" {
		hdr["kid"] = s.o.KeyID
	}
	for k, v := range map[string]string{"iss": s.o.Issuer, "sub": s.o.Subject, "aud": s.o.Audience} {
		if v != "" {
			claims[k] = v
		}
	}
	if s.o.TemplateFile != "" {
		th, tp, err := s.template(ctx)
		if err != nil {
			return "", err
		}
		maps.Copy(hdr, th)
		maps.Copy(claims, tp)
	}
	now := s.now()
	hdr["alg"], hdr["typ"] = m.Alg(), "JWT"
	claims["iat"], claims["exp"], claims["nbf"] = now.Unix(), now.Add(s.o.Lifetime).Unix(), now.Add(-s.o.NotBefore).Unix()
	if !s.o.OmitJTI {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		claims["jti"] = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range []string{"iss", "sub", "aud"} {
		if claims[c] == nil || claims[c] == "" {
			return "", fmt.Errorf("oauthclient: the assertion has no %s claim; set it in JWTBearerOptions or in the template file %s", c, srvtext.Quote(s.o.TemplateFile, 0))
		}
	}
	t := &jwt.Token{Header: hdr, Claims: claims, Method: m}
	a, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("oauthclient: signing the jwt-bearer assertion failed (%T); check JWTBearerOptions.PrivateKey", key)
	}
	return a, nil
}

// key returns PrivateKey, or reads and parses PrivateKeyFile.
func (s *jwtBearer) key(ctx context.Context) (crypto.Signer, error) {
	if s.o.PrivateKey != nil {
		return s.o.PrivateKey, nil
	}
	data, err := boundedfile.Read(ctx, s.o.PrivateKeyFile, keyLimit)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: JWTBearerOptions.PrivateKeyFile %s cannot be read: %w; %s", srvtext.Quote(s.o.PrivateKeyFile, 0), err, guide.See("jwt-bearer-key"))
	}
	k, err := ParsePrivateKeyPEM(data, s.o.PrivateKeyPassphrase)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: JWTBearerOptions.PrivateKeyFile %s: %w; %s", srvtext.Quote(s.o.PrivateKeyFile, 0), err, guide.See("jwt-bearer-key"))
	}
	return k, nil
}

// method checks Algorithm against the key.
func (s *jwtBearer) method(k crypto.Signer) (jwt.SigningMethod, error) {
	m, err := signingMethod(k)
	if err != nil {
		return nil, errors.New("oauthclient: the jwt-bearer private key must be RSA (RS256) or ECDSA on P-256 (ES256) or P-384 (ES384); " + guide.See("jwt-bearer-key"))
	}
	if s.o.Algorithm != "" && s.o.Algorithm != m.Alg() {
		return nil, fmt.Errorf("oauthclient: JWTBearerOptions.Algorithm is %s but the key signs %s; set the algorithm that matches the key; %s", srvtext.Quote(s.o.Algorithm, 0), m.Alg(), guide.See("jwt-bearer-key"))
	}
	return m, nil
}

// template reads TemplateFile.
func (s *jwtBearer) template(ctx context.Context) (hdr, payload map[string]any, err error) {
	data, err := boundedfile.Read(ctx, s.o.TemplateFile, keyLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("oauthclient: JWTBearerOptions.TemplateFile %s cannot be read: %w", srvtext.Quote(s.o.TemplateFile, 0), err)
	}
	var t struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, nil, fmt.Errorf("oauthclient: JWTBearerOptions.TemplateFile %s is not a JSON object with header and payload objects: %v", srvtext.Quote(s.o.TemplateFile, 0), jsonErr(err))
	}
	return t.Header, t.Payload, nil
}

// jsonErr keeps the position of a syntax error but not the quoted value
// of a type error (a template is not secret, but stay terse).
func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "wrong types"
}
