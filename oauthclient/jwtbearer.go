package oauthclient

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
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
	// [oauthbearer.CacheOptions] defaults, named "oauth jwt-bearer at <the TokenURL's origin>" (scheme and
	// host: the name names the endpoint in errors and labels metrics, so no
	// path).
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
	o    JWTBearerOptions
	now  func() time.Time
	sign *signer // nil with AssertionFile
	opts options // names JWTBearerOptions fields in errors
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
	n := options{typ: "JWTBearerOptions"}
	if o.TokenURL == "" {
		return nil, n.errorf("oauthclient: %s is empty; set the identity provider's token endpoint", field("TokenURL"))
	}
	if err := idphttp.CheckEndpoint("oauthclient", n.name("TokenURL"), o.TokenURL); err != nil {
		return nil, n.wrap(err, "TokenURL")
	}
	set := 0
	for _, isSet := range []bool{o.PrivateKey != nil, o.PrivateKeyFile != "", o.AssertionFile != ""} {
		if isSet {
			set++
		}
	}
	if set != 1 {
		return nil, n.errorf("oauthclient: %d of %s, %s and %s are set; set exactly one: a key to build assertions with, or a file holding one", set, field("PrivateKey"), field("PrivateKeyFile"), field("AssertionFile"))
	}
	const kind = "oauth jwt-bearer" // fixed: it labels metrics
	c := cacheopts.WithName(o.Cache, kind+" at "+oauthpost.Origin(o.TokenURL))
	s := &jwtBearer{o: o, now: time.Now, opts: n}
	if c.Clock != nil {
		s.now = c.Clock.Now
	}
	if o.AssertionFile != "" {
		if _, err := boundedfile.Check(o.AssertionFile); errors.Is(err, boundedfile.ErrNotRegular) {
			return nil, n.errorf("oauthclient: %s %s: %w; point it at the assertion file itself", field("AssertionFile"), srvtext.Quote(o.AssertionFile, 0), err)
		}
	} else {
		sg, err := newSigner(AssertionOptions{
			PrivateKey: o.PrivateKey, PrivateKeyFile: o.PrivateKeyFile, PrivateKeyPassphrase: o.PrivateKeyPassphrase,
			Algorithm: o.Algorithm, KeyID: o.KeyID, Issuer: o.Issuer, Subject: o.Subject, Audience: o.Audience,
			Lifetime: o.Lifetime, NotBefore: o.NotBefore, OmitJTI: o.OmitJTI, TemplateFile: o.TemplateFile,
		}, n, o.TokenURL, func() time.Time { return s.now() })
		if err != nil {
			return nil, err
		}
		s.sign = sg
	}
	s.o.HTTPClient = idphttp.Client(o.HTTPClient, "oauthclient")
	return oauthbearer.NewCache(cacheopts.Kind(s, kind), c)
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
	if s.sign == nil {
		t, err := jwtfile.Read(ctx, "oauthclient", s.opts.name("AssertionFile"), s.o.AssertionFile, s.now())
		if err != nil {
			return "", s.opts.wrap(err, "AssertionFile")
		}
		return t.Value, nil
	}
	return s.sign.sign(ctx)
}
