package oauthclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// AssertionOptions configures an assertion this package signs locally
// (RFC 7523), as Kafka's AssertionSupplierFactory builds one from the
// sasl.oauthbearer.assertion.* settings: for the client-credentials grant
// ([ClientCredentialsOptions.Assertion], KIP-1258) the assertion
// authenticates the client; for the jwt-bearer grant
// ([JWTBearerOptions.Assertion]) it is the grant itself. Set exactly one
// of PrivateKey and PrivateKeyFile.
type AssertionOptions struct {
	// PrivateKey signs the assertions: *rsa.PrivateKey (RS256) or
	// *ecdsa.PrivateKey on P-256 (ES256) or P-384 (ES384).
	PrivateKey crypto.Signer

	// PrivateKeyFile is a PEM file with the private key
	// (sasl.oauthbearer.assertion.private.key.file), as
	// [ParsePrivateKeyPEM] reads it. It is read at construction, to fail
	// early, and again on every refresh, so a rotated key is used without
	// a restart.
	PrivateKeyFile string

	// PrivateKeyPassphrase decrypts an encrypted PrivateKeyFile
	// (sasl.oauthbearer.assertion.private.key.passphrase). It never
	// prints.
	PrivateKeyPassphrase Secret

	// Algorithm is the assertion's "alg": "RS256", "ES256" or "ES384"
	// (sasl.oauthbearer.assertion.algorithm). Default: the one the key's
	// type and curve give. A mismatch with the key is an error.
	Algorithm string

	// KeyID is the assertion's "kid" header. Default: none (a template's
	// header may set one).
	KeyID string

	// Issuer, Subject and Audience are the assertion's iss, sub and aud
	// (sasl.oauthbearer.assertion.claim.iss, .sub, .aud). A TemplateFile
	// may give them instead. Audience defaults to the token URL; for the
	// client-credentials grant Issuer and Subject default to the client
	// ID, as RFC 7523 section 3 requires of a client assertion (Kafka
	// leaves unset claims out).
	Issuer, Subject, Audience string

	// Lifetime sets exp = now + Lifetime
	// (sasl.oauthbearer.assertion.claim.exp.seconds). Default 5m, as
	// Kafka; negative is an error.
	Lifetime time.Duration

	// NotBefore sets nbf = now - NotBefore
	// (sasl.oauthbearer.assertion.claim.nbf.seconds), to absorb clock
	// skew. Default 60s, as Kafka. Since 0 is the default, a negative
	// value asks for no skew (nbf = now, Kafka's claim.nbf.seconds=0);
	// it is not an error, unlike a negative Lifetime.
	NotBefore time.Duration

	// OmitJTI leaves out the random "jti" claim that every assertion
	// otherwise carries so that servers can refuse a replay. Kafka's
	// sasl.oauthbearer.assertion.claim.jti.include defaults to false;
	// this package defaults to including it.
	OmitJTI bool

	// TemplateFile is a JSON file {"header": {...}, "payload": {...}} of
	// static header values and claims
	// (sasl.oauthbearer.assertion.template.file), read on every refresh.
	// As in Kafka, its claims override Issuer, Subject and Audience, and
	// alg, typ, iat, exp, nbf and jti override its values.
	TemplateFile string
}

// signer builds and signs assertions: the one implementation behind both
// grants.
type signer struct {
	o AssertionOptions
	// opts names an option field in errors:
	// "JWTBearerOptions.Assertion.Issuer",
	// "ClientCredentialsOptions.Assertion.Issuer".
	opts options
	now  func() time.Time
}

// keyLimit bounds key and template files: a 4096-bit RSA key in PEM is
// about 3 KiB.
const keyLimit = boundedfile.TokenLimit

// The assertion defaults, Kafka's (SaslConfigs) too.
const (
	defaultAssertionLifetime  = 5 * time.Minute
	defaultAssertionNotBefore = time.Minute
)

// newSigner applies the defaults and checks what can be checked at
// construction: the key (read from its file), the algorithm, the claims
// RFC 7523 requires and the template.
func newSigner(o AssertionOptions, n options, tokenURL string, now func() time.Time) (*signer, error) {
	if (o.PrivateKey != nil) == (o.PrivateKeyFile != "") {
		if o.PrivateKey != nil {
			return nil, n.errorf("oauthclient: both %s and %s are set; set only one to sign assertions with", field("PrivateKey"), field("PrivateKeyFile"))
		}
		return nil, n.errorf("oauthclient: neither %s nor %s is set; set one to sign assertions with", field("PrivateKey"), field("PrivateKeyFile"))
	}
	// The one place the assertion defaults live (clientprops passes
	// Kafka's unset claim.exp.seconds and claim.nbf.seconds as 0).
	lifetime, err := cacheopts.Duration("oauthclient."+n.typ, n.prefix+"Lifetime", o.Lifetime, defaultAssertionLifetime)
	if err != nil {
		return nil, err
	}
	o.Lifetime = lifetime
	switch {
	case o.NotBefore == 0:
		o.NotBefore = defaultAssertionNotBefore
	case o.NotBefore < 0:
		// Not the repository's "negative is an error": 0 already means
		// the default, so a negative value is how nbf = iat (Kafka's
		// claim.nbf.seconds=0) is asked for, as the field documents.
		o.NotBefore = 0
	}
	if o.Audience == "" {
		o.Audience = tokenURL
	}
	s := &signer{o: o, opts: n, now: now}
	key, err := s.key(context.Background())
	if err != nil {
		return nil, err
	}
	if _, err := s.method(key); err != nil {
		return nil, err
	}
	if o.TemplateFile == "" && (o.Issuer == "" || o.Subject == "") {
		return nil, n.errorf("oauthclient: %s and %s must both be set (or %s, a template that sets iss and sub): RFC 7523 requires both claims in the assertion", field("Issuer"), field("Subject"), field("TemplateFile"))
	}
	if o.TemplateFile != "" {
		if _, _, err := s.template(context.Background()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sign returns a new signed assertion.
func (s *signer) sign(ctx context.Context) (string, error) {
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
			return "", s.opts.errorf("oauthclient: the assertion has no %s claim; set %s, or set it in the template file %s", c, field(map[string]string{"iss": "Issuer", "sub": "Subject", "aud": "Audience"}[c]), srvtext.Quote(s.o.TemplateFile, 0))
		}
	}
	t := &jwt.Token{Header: hdr, Claims: claims, Method: m}
	a, err := t.SignedString(key)
	if err != nil {
		return "", s.opts.errorf("oauthclient: signing the assertion failed (%T); check %s", key, s.keyField())
	}
	return a, nil
}

// keyField names the field the key comes from: PrivateKey or
// PrivateKeyFile.
func (s *signer) keyField() field {
	if s.o.PrivateKey != nil {
		return "PrivateKey"
	}
	return "PrivateKeyFile"
}

// keyKind describes k's type for an error: "an ECDSA P-521 key", "a
// key of type ed25519.PrivateKey". It never prints the key.
func keyKind(k crypto.Signer) string {
	if pub, ok := k.Public().(*ecdsa.PublicKey); ok {
		return "an ECDSA " + pub.Curve.Params().Name + " key"
	}
	return fmt.Sprintf("a key of type %T", k)
}

// key returns PrivateKey, or reads and parses PrivateKeyFile.
func (s *signer) key(ctx context.Context) (crypto.Signer, error) {
	if s.o.PrivateKey != nil {
		return s.o.PrivateKey, nil
	}
	data, err := boundedfile.Read(ctx, s.o.PrivateKeyFile, keyLimit)
	if err != nil {
		return nil, s.opts.errorf("oauthclient: %s %s cannot be read: %w; %s", field("PrivateKeyFile"), srvtext.Quote(s.o.PrivateKeyFile, 0), err, troubleshooting.See("jwt-bearer-key"))
	}
	k, err := ParsePrivateKeyPEM(data, s.o.PrivateKeyPassphrase)
	if err != nil {
		return nil, s.opts.errorf("oauthclient: %s %s: %w; %s", field("PrivateKeyFile"), srvtext.Quote(s.o.PrivateKeyFile, 0), err, troubleshooting.See("jwt-bearer-key"))
	}
	return k, nil
}

// method checks Algorithm against the key.
func (s *signer) method(k crypto.Signer) (jwt.SigningMethod, error) {
	m, ok := signingMethod(k)
	if !ok {
		return nil, s.opts.errorf("oauthclient: %s is %s; it must be RSA (RS256) or ECDSA on P-256 (ES256) or P-384 (ES384); %s", s.keyField(), keyKind(k), troubleshooting.See("jwt-bearer-key"))
	}
	if s.o.Algorithm != "" && s.o.Algorithm != m.Alg() {
		return nil, s.opts.errorf("oauthclient: %s is %s but the key signs %s; set the algorithm that matches the key; %s", field("Algorithm"), srvtext.Quote(s.o.Algorithm, 0), m.Alg(), troubleshooting.See("jwt-bearer-key"))
	}
	return m, nil
}

// signingMethod returns the method k signs with, or false for a key
// type or curve assertions cannot use.
func signingMethod(k crypto.Signer) (jwt.SigningMethod, bool) {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		return jwt.SigningMethodRS256, true
	case *ecdsa.PublicKey:
		switch pub.Curve.Params().BitSize {
		case 256:
			return jwt.SigningMethodES256, true
		case 384:
			return jwt.SigningMethodES384, true
		}
	}
	return nil, false
}

// template reads TemplateFile.
func (s *signer) template(ctx context.Context) (hdr, payload map[string]any, err error) {
	data, err := boundedfile.Read(ctx, s.o.TemplateFile, keyLimit)
	if err != nil {
		return nil, nil, s.opts.errorf("oauthclient: %s %s cannot be read: %w", field("TemplateFile"), srvtext.Quote(s.o.TemplateFile, 0), err)
	}
	var t struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, nil, s.opts.errorf("oauthclient: %s %s is not a JSON object with header and payload objects: %v", field("TemplateFile"), srvtext.Quote(s.o.TemplateFile, 0), jsonErr(err))
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

// Format prints the MarshalText form under every fmt verb. Options that
// hold an *AssertionOptions rely on it: with a verb that does not fit a
// pointer (%s, %q), fmt would otherwise print the AssertionOptions behind
// it with every formatting method off, the passphrase in clear.
func (o AssertionOptions) Format(f fmt.State, _ rune) {
	b, _ := o.MarshalText()
	_, _ = f.Write(b)
}

// MarshalText encodes the options with the private key and passphrase
// redacted, so that no encoder walks into the key.
func (o AssertionOptions) MarshalText() ([]byte, error) {
	key := ""
	if o.PrivateKey != nil {
		key = fmt.Sprintf("<redacted %T>", o.PrivateKey)
	}
	return fmt.Appendf(nil, "oauthclient.AssertionOptions{PrivateKey:%s, PrivateKeyFile:%q, PrivateKeyPassphrase:%s, Algorithm:%q, Issuer:%q, Subject:%q, Audience:%q, TemplateFile:%q}",
		key, o.PrivateKeyFile, o.PrivateKeyPassphrase, o.Algorithm, o.Issuer, o.Subject, o.Audience, o.TemplateFile), nil
}

// assertionText is a's redacted MarshalText, or "<nil>".
func assertionText(a *AssertionOptions) string {
	if a == nil {
		return "<nil>"
	}
	b, _ := a.MarshalText()
	return string(b)
}
