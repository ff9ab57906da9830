package oauthclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ClientCredentialsOptions configures [NewClientCredentials], the OAuth 2.0
// client credentials grant that Kafka's own OAuthBearerLoginCallbackHandler
// performs. Set exactly one of ClientSecret and PrivateKey. Fields have no
// environment fallback.
type ClientCredentialsOptions struct {
	// TokenURL is the identity provider's token endpoint
	// (sasl.oauthbearer.token.endpoint.url). Required; https, or http to
	// a loopback host.
	TokenURL string

	// ClientID identifies the client. Required.
	ClientID string

	// ClientSecret authenticates the client with client_secret_basic
	// (HTTP Basic with form-urlencoded ID and secret, RFC 6749 2.3.1), as
	// Kafka does. It is a secret: it never appears in errors or logs.
	ClientSecret Secret

	// RawBasicAuth sends the client ID and secret in the Basic header
	// without form-urlencoding them first, as Kafka does unless
	// sasl.oauthbearer.header.urlencode=true. Default false: encoded, as
	// RFC 6749 section 2.3.1 requires. The two differ only for IDs or
	// secrets with characters outside letters, digits and -._~.
	RawBasicAuth bool

	// PrivateKey authenticates the client with private_key_jwt (RFC
	// 7523): each request carries a short-lived assertion signed with it.
	// *rsa.PrivateKey signs RS256, *ecdsa.PrivateKey ES256 or ES384 by
	// curve.
	PrivateKey crypto.Signer

	// KeyID is the "kid" header of the assertions, which identity
	// providers use to pick the registered key. Default: none.
	KeyID string

	// AssertionAudience is the "aud" of the assertions. Default TokenURL,
	// as RFC 7523 recommends.
	AssertionAudience string

	// Scope is the space-separated scope to request. Default: none.
	Scope string

	// HTTPClient sends the requests. Its redirect policy is replaced (on
	// a shallow copy; yours is not modified): a redirect is never
	// followed but returned as an error matching
	// [oauthbearer.ErrRedirectRefused], so neither the secret nor the
	// assertion reaches the Location. Default: a client with a 30s
	// timeout that keeps no idle connections.
	HTTPClient *http.Client

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "oauth client credentials".
	Cache *oauthbearer.CacheOptions
}

type clientCredentials struct {
	o ClientCredentialsOptions
}

// NewClientCredentials returns a cached source of access tokens obtained
// with the client credentials grant. Tokens take their expiry from
// expires_in, or else from the JWT's exp claim, and their principal from
// its sub claim.
func NewClientCredentials(opts *ClientCredentialsOptions) (*oauthbearer.Cache, error) {
	var o ClientCredentialsOptions
	if opts != nil {
		o = *opts
	}
	if o.TokenURL == "" {
		return nil, errors.New("oauthclient: ClientCredentialsOptions.TokenURL is empty; set the identity provider's token endpoint")
	}
	if err := idphttp.CheckEndpoint("oauthclient", "ClientCredentialsOptions.TokenURL", o.TokenURL); err != nil {
		return nil, err
	}
	if o.ClientID == "" {
		return nil, errors.New("oauthclient: ClientCredentialsOptions.ClientID is empty; set the OAuth client ID")
	}
	switch {
	case o.ClientSecret == "" && o.PrivateKey == nil:
		return nil, errors.New("oauthclient: ClientCredentialsOptions has neither ClientSecret nor PrivateKey; set one to authenticate the client")
	case o.ClientSecret != "" && o.PrivateKey != nil:
		return nil, errors.New("oauthclient: ClientCredentialsOptions has both ClientSecret and PrivateKey; set only one (servers refuse two authentication methods)")
	}
	if o.PrivateKey != nil {
		if _, err := signingMethod(o.PrivateKey); err != nil {
			return nil, err
		}
	}
	if o.AssertionAudience == "" {
		o.AssertionAudience = o.TokenURL
	}
	o.HTTPClient = idphttp.Client(o.HTTPClient, "oauthclient")
	return oauthbearer.NewCache(&clientCredentials{o: o}, cacheopts.WithName(o.Cache, "oauth client credentials at "+oauthpost.RedactURL(o.TokenURL)))
}

func signingMethod(k crypto.Signer) (jwt.SigningMethod, error) {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		return jwt.SigningMethodRS256, nil
	case *ecdsa.PublicKey:
		switch pub.Curve.Params().BitSize {
		case 256:
			return jwt.SigningMethodES256, nil
		case 384:
			return jwt.SigningMethodES384, nil
		}
	}
	return nil, errors.New("oauthclient: ClientCredentialsOptions.PrivateKey must be an *rsa.PrivateKey or an *ecdsa.PrivateKey on P-256 or P-384")
}

// Token performs one client-credentials request.
func (c *clientCredentials) Token(ctx context.Context) (oauthbearer.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.o.Scope != "" {
		form.Set("scope", c.o.Scope)
	}
	var setAuth func(*http.Request)
	if c.o.PrivateKey != nil {
		a, err := c.assertion()
		if err != nil {
			return oauthbearer.Token{}, err
		}
		form.Set("client_id", c.o.ClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	} else {
		setAuth = func(r *http.Request) {
			if c.o.RawBasicAuth {
				r.SetBasicAuth(c.o.ClientID, string(c.o.ClientSecret))
				return
			}
			r.SetBasicAuth(url.QueryEscape(c.o.ClientID), url.QueryEscape(string(c.o.ClientSecret)))
		}
	}
	start := time.Now()
	tr, err := oauthpost.PostForm(ctx, c.o.HTTPClient, "oauthclient", c.o.TokenURL, form, setAuth)
	if err != nil {
		return oauthbearer.Token{}, refused(err)
	}
	return tr.Token("oauthclient", start, oauthpost.RedactURL(c.o.TokenURL))
}

func (c *clientCredentials) assertion() (string, error) {
	m, err := signingMethod(c.o.PrivateKey)
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	now := time.Now()
	t := jwt.NewWithClaims(m, jwt.MapClaims{
		"iss": c.o.ClientID, "sub": c.o.ClientID, "aud": c.o.AssertionAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	})
	if c.o.KeyID != "" {
		t.Header["kid"] = c.o.KeyID
	}
	s, err := t.SignedString(c.o.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("oauthclient: signing the client assertion: %v; check ClientCredentialsOptions.PrivateKey", err)
	}
	return s, nil
}

// Secret is a string that never prints: every fmt verb, slog and JSON
// show "<redacted>" (or "" when empty). Convert with string(s) only where
// the secret goes on the wire.
type Secret string

// String returns a redacted form.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString returns a redacted form for %#v.
func (s Secret) GoString() string { return `oauthclient.Secret("` + s.String() + `")` }

// Format makes every fmt verb print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue keeps the secret out of log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML encodes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText encodes the redacted form (XML, YAML and map keys use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// GobEncode encodes the redacted form.
func (s Secret) GobEncode() ([]byte, error) { return []byte(s.String()), nil }

// GobDecode decodes what GobEncode wrote (the value stays redacted).
func (s *Secret) GobDecode(data []byte) error { *s = Secret(data); return nil }

// MarshalText encodes the options with the client secret and private key
// redacted, so YAML, XML and JSON neither print the key (YAML follows
// pointers into *ecdsa.PrivateKey) nor walk the HTTP client by reflection.
func (o ClientCredentialsOptions) MarshalText() ([]byte, error) {
	key := ""
	if o.PrivateKey != nil {
		key = fmt.Sprintf("<redacted %T>", o.PrivateKey)
	}
	return fmt.Appendf(nil, "oauthclient.ClientCredentialsOptions{TokenURL:%s, ClientID:%q, ClientSecret:%s, PrivateKey:%s, KeyID:%q, Scope:%q}",
		oauthpost.RedactURL(o.TokenURL), o.ClientID, o.ClientSecret, key, o.KeyID, o.Scope), nil
}
