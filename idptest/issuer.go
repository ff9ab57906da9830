package idptest

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssuerOptions configures an [Issuer]. The zero value is valid.
type IssuerOptions struct {
	// Algorithm is "RS256" (default), "ES256" (SPIRE's JWT-SVIDs) or
	// "ES384".
	Algorithm string
	// IssuerURL overrides the "iss" claim and the discovery document's
	// issuer. Default: the server's URL.
	IssuerURL string
	// KeyID is the "kid" of the first signing key. Default: a fresh one.
	// A second Issuer given the kid of a first one's key signs tokens
	// that the first one's JWKS names but does not verify: forged
	// signatures.
	KeyID string
}

// Issuer is a local OpenID Connect token issuer: it signs JWTs with a key
// that has a "kid", and serves its JWKS at /.well-known/jwks.json and its
// discovery document at /.well-known/openid-configuration, over plain
// HTTP on 127.0.0.1. Keys can be rotated while clients run.
type Issuer struct {
	*Server
	// IssuerURL is the "iss" claim of every token [Issuer.Mint] makes.
	IssuerURL string
	// JWKSURL is where the public keys are served.
	JWKSURL string

	mu   sync.Mutex
	keys []*signingKey // keys[0] signs; all are published
	seq  int
}

type signingKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// NewIssuer starts an Issuer that is closed when t's test ends. It calls
// t.Fatalf on an unknown Algorithm.
func NewIssuer(t TB, opts *IssuerOptions) *Issuer {
	t.Helper()
	return newEmulator(t, opts, startIssuer)
}

// startIssuer starts an Issuer; the caller must Close it.
func startIssuer(o IssuerOptions) (*Issuer, error) {
	if o.Algorithm == "" {
		o.Algorithm = "RS256"
	}
	if o.Algorithm != "RS256" && o.Algorithm != "ES256" && o.Algorithm != "ES384" {
		return nil, fmt.Errorf("IssuerOptions.Algorithm is %q; use RS256, ES256 or ES384", o.Algorithm)
	}
	iss := &Issuer{}
	k, err := iss.addKey(o.Algorithm)
	if err != nil {
		return nil, err
	}
	if o.KeyID != "" {
		k.kid = o.KeyID
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", iss.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", iss.serveDiscovery)
	srv, err := startServer(mux, serverConfig{})
	if err != nil {
		return nil, err
	}
	iss.Server = srv
	iss.IssuerURL = cmp.Or(o.IssuerURL, srv.URL)
	iss.JWKSURL = srv.URL + "/.well-known/jwks.json"
	return iss, nil
}

// current returns the signing key.
func (i *Issuer) current() *signingKey {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[0]
}

func (i *Issuer) addKey(alg string) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q; use RS256, ES256 or ES384", alg)
	}
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.seq++
	k := &signingKey{kid: fmt.Sprintf("key-%d-%s", i.seq, alg), alg: alg, priv: priv}
	i.keys = append([]*signingKey{k}, i.keys...)
	return k, nil
}

// Rotate makes a new key (same algorithm as now, or alg if given) the
// signing key. The old keys stay in the JWKS unless dropOld is true, the
// way issuers publish the next key before they use it.
func (i *Issuer) Rotate(dropOld bool, alg ...string) error {
	a := i.current().alg
	if len(alg) > 0 {
		a = alg[0]
	}
	k, err := i.addKey(a)
	if err != nil {
		return err
	}
	if dropOld {
		i.mu.Lock()
		i.keys = []*signingKey{k}
		i.mu.Unlock()
	}
	return nil
}

// Mint signs a token with the standard claims iss, sub, aud, iat, nbf and
// exp (now + lifetime; a negative lifetime makes an already expired
// token) plus extra, which overrides them. Setting a claim to nil in extra removes it
// (for example map[string]any{"exp": nil} for a token without expiry).
func (i *Issuer) Mint(sub, aud string, lifetime time.Duration, extra map[string]any) string {
	now := time.Now()
	c := map[string]any{
		"iss": i.IssuerURL, "sub": sub, "aud": aud,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(lifetime).Unix(),
		"jti": randomB64URL(16),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return i.Sign(c)
}

// Sign signs claims (JSON-encodable values) with the current key,
// putting its kid in the header.
func (i *Issuer) Sign(claims map[string]any) string {
	return signWith(i.current(), claims)
}

func signWith(k *signingKey, claims map[string]any) string {
	var m jwt.SigningMethod = jwt.SigningMethodRS256
	switch k.alg {
	case "ES256":
		m = jwt.SigningMethodES256
	case "ES384":
		m = jwt.SigningMethodES384
	}
	tok := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		panic(err)
	}
	return s
}

// jwk is one public key in JWKS form.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// jwks returns the published key set.
func (i *Issuer) jwks() []jwk {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make([]jwk, 0, len(i.keys))
	b64 := base64.RawURLEncoding.EncodeToString
	for _, k := range i.keys {
		switch pub := k.priv.Public().(type) {
		case *rsa.PublicKey:
			out = append(out, jwk{Kty: "RSA", Kid: k.kid, Use: "sig", Alg: k.alg, N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes())})
		case *ecdsa.PublicKey:
			// Bytes is the uncompressed point 0x04 || X || Y, each
			// coordinate the curve's size (the X and Y fields are
			// deprecated).
			pt, err := pub.Bytes()
			if err != nil {
				panic(err)
			}
			size := (len(pt) - 1) / 2
			out = append(out, jwk{Kty: "EC", Kid: k.kid, Use: "sig", Alg: k.alg, Crv: pub.Curve.Params().Name,
				X: b64(pt[1 : 1+size]), Y: b64(pt[1+size:])})
		}
	}
	return out
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": i.jwks()})
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.IssuerURL,
		"jwks_uri":                              i.JWKSURL,
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "ES384"},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
	})
}

// randomB64URL returns n random characters of the base64url alphabet:
// the emulators' token IDs (jti, uti: 16 characters, 96 bits) and what
// Google access tokens are made of (with '.').
func randomB64URL(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
