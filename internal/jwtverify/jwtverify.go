// Package jwtverify verifies JWTs against a JWKS fetched over HTTP, the way
// Kafka's OAuthBearerValidatorCallbackHandler and cloud token services do.
// The test bench's broker, Schema Registry and token-exchange emulators
// share it.
package jwtverify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Reason classifies a rejection.
type Reason string

// Rejection reasons of the JWT checks, mirroring what Kafka logs. Verify
// returns all but NoIssuedAt and BadScope, which the bench's broker adds
// with Kafka's own claim checks. They are the values of
// oauthbearertest.Authentication.Reason for a refused token.
const (
	// Malformed: the token is not a parseable JWS, or uses an algorithm
	// outside RS256/RS384/RS512/PS256/ES256/ES384.
	Malformed Reason = "malformed"
	// UnknownKid: the header has no kid, or a kid not in the JWKS even
	// after a refetch.
	UnknownKid Reason = "unknown_kid"
	// BadSignature: the signature does not verify with the kid's key.
	BadSignature Reason = "bad_signature"
	// BadIssuer: "iss" differs from the expected issuer.
	BadIssuer Reason = "bad_issuer"
	// BadAudience: the expected audience is not among "aud".
	BadAudience Reason = "bad_audience"
	// Expired: "exp" plus the clock skew is not after now.
	Expired Reason = "expired"
	// NoExpiry: the token has no "exp".
	NoExpiry Reason = "no_expiry"
	// NoSubject: the subject claim is missing, not a string, or blank.
	NoSubject Reason = "no_subject"
	// NotYetValid: "nbf" is later than now plus the clock skew.
	NotYetValid Reason = "not_yet_valid"
	// NoIssuedAt: the token has no numeric "iat".
	NoIssuedAt Reason = "no_issued_at"
	// BadScope: the "scope" claim is blank or holds a blank or
	// non-string scope.
	BadScope Reason = "bad_scope"
)

// DefaultSkew is the clock skew allowed on "exp" and "nbf" when
// Expect.Skew is zero: 30s, the default of Kafka's
// sasl.oauthbearer.clock.skew.seconds, and the "reasonably small" leeway
// (RFC 7523 section 3) the OAuth emulators allow on client assertions.
const DefaultSkew = 30 * time.Second

// Allowance is the clock skew Verify allows for Expect.Skew = skew:
// DefaultSkew for zero, none for a negative skew, else skew.
func Allowance(skew time.Duration) time.Duration {
	switch {
	case skew == 0:
		return DefaultSkew
	case skew < 0:
		return 0
	}
	return skew
}

// Error is a rejected token.
type Error struct {
	Reason Reason
	Detail string
}

// Error says why the token was rejected.
func (e *Error) Error() string { return fmt.Sprintf("jwt rejected (%s): %s", e.Reason, e.Detail) }

// Expect lists what a valid token must carry.
type Expect struct {
	Issuer   string // required "iss" if non-empty
	Audience string // required among "aud" if non-empty
	// SubClaim names the subject claim that must be present and non-empty.
	// Default "sub".
	SubClaim string
	// Skew is the clock skew allowed on "exp" and "nbf": zero means
	// DefaultSkew, a negative value none (see Allowance).
	Skew time.Duration
	Now  func() time.Time
}

// Verifier fetches and caches a JWKS.
type Verifier struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]any
	fetched time.Time
}

// fetchTimeout bounds a JWKS fetch with New's default client.
const fetchTimeout = 10 * time.Second

// New returns a Verifier for the JWKS at url, fetched with client (nil: a
// client of the Verifier's own with a 10s timeout, so that a JWKS server
// that hangs cannot hold a verification forever).
func New(url string, client *http.Client) *Verifier {
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	return &Verifier{url: url, client: client}
}

// Verify checks token's signature, algorithm, kid, issuer, audience,
// expiry and subject, and returns its claims and subject.
func (v *Verifier) Verify(token string, e Expect) (jwt.MapClaims, string, error) {
	if e.SubClaim == "" {
		e.SubClaim = "sub"
	}
	e.Skew = Allowance(e.Skew)
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "ES384", "ES256", "RS384", "RS512", "PS256"}),
		jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, &Error{Reason: UnknownKid, Detail: "the token header has no kid"}
		}
		return v.key(kid)
	})
	if err != nil {
		var ve *Error
		if errors.As(err, &ve) {
			return nil, "", ve
		}
		if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return nil, "", &Error{Reason: BadSignature, Detail: "the signature does not verify with the JWKS key"}
		}
		return nil, "", &Error{Reason: Malformed, Detail: err.Error()}
	}
	if e.Issuer != "" {
		if iss, _ := claims["iss"].(string); iss != e.Issuer {
			return nil, "", &Error{Reason: BadIssuer, Detail: fmt.Sprintf("iss %q, want %q", iss, e.Issuer)}
		}
	}
	if e.Audience != "" {
		aud, _ := claims.GetAudience()
		if !slices.Contains([]string(aud), e.Audience) {
			return nil, "", &Error{Reason: BadAudience, Detail: fmt.Sprintf("aud %q, want %q", []string(aud), e.Audience)}
		}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, "", &Error{Reason: NoExpiry, Detail: "the token has no exp claim"}
	}
	n := now()
	if !n.Before(exp.Add(e.Skew)) {
		return nil, "", &Error{Reason: Expired, Detail: fmt.Sprintf("expired at %s", exp.UTC().Format(time.RFC3339))}
	}
	if nbf, _ := claims.GetNotBefore(); nbf != nil && n.Add(e.Skew).Before(nbf.Time) {
		return nil, "", &Error{Reason: NotYetValid, Detail: "nbf is in the future"}
	}
	sub, _ := claims[e.SubClaim].(string)
	if sub == "" {
		return nil, "", &Error{Reason: NoSubject, Detail: fmt.Sprintf("the %q claim is missing or empty", e.SubClaim)}
	}
	return claims, sub, nil
}

// key returns the key for kid, refetching the JWKS once when kid is
// unknown (at most once a second), as Kafka's refreshing JWKS does.
func (v *Verifier) key(kid string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if time.Since(v.fetched) > time.Second || v.keys == nil {
		keys, err := fetch(v.client, v.url)
		if err != nil {
			return nil, &Error{Reason: UnknownKid, Detail: "fetching JWKS: " + err.Error()}
		}
		v.keys, v.fetched = keys, time.Now()
		if k, ok := v.keys[kid]; ok {
			return k, nil
		}
	}
	return nil, &Error{Reason: UnknownKid, Detail: fmt.Sprintf("kid %q is not in the JWKS at %s", kid, v.url)}
}

type jwk struct {
	Kty, Kid, Crv, N, E, X, Y string
}

func fetch(client *http.Client, url string) (map[string]any, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var set struct{ Keys []jwk }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, err
	}
	keys := map[string]any{}
	d := base64.RawURLEncoding.DecodeString
	for _, k := range set.Keys {
		switch k.Kty {
		case "RSA":
			n, err1 := d(k.N)
			e, err2 := d(k.E)
			if err1 != nil || err2 != nil {
				continue
			}
			keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			var c elliptic.Curve
			switch k.Crv {
			case "P-256":
				c = elliptic.P256()
			case "P-384":
				c = elliptic.P384()
			default:
				continue
			}
			x, err1 := d(k.X)
			y, err2 := d(k.Y)
			size := (c.Params().BitSize + 7) / 8
			if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
				continue
			}
			// SEC 1 uncompressed point: 0x04 || X || Y, each padded to
			// the field size; the parser checks the point is on the curve.
			pt := make([]byte, 1+2*size)
			pt[0] = 4
			copy(pt[1+size-len(x):1+size], x)
			copy(pt[1+2*size-len(y):], y)
			pub, err := ecdsa.ParseUncompressedPublicKey(c, pt)
			if err != nil {
				continue
			}
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}
