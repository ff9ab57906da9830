package oauthclient

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ClientCredentialsOptions configures [NewClientCredentials], the OAuth 2.0
// client credentials grant that Kafka's own OAuthBearerLoginCallbackHandler
// performs. The client authenticates with, in Kafka 4.4's order of
// preference (KIP-1258): AssertionFile, else a locally signed Assertion,
// else ClientSecret. Fields have no environment fallback.
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
	// secrets with characters outside letters, digits and -._~. The
	// defaults differ by entry point on purpose: a client.properties
	// file keeps Kafka's (raw; clientprops.SourceSpec.RawBasicAuth, the
	// same name, is then true).
	RawBasicAuth bool

	// AssertionFile is a file holding a pre-generated client assertion
	// (sasl.oauthbearer.assertion.file), read on every refresh so that
	// whatever writes it can rotate it, and sent as client_assertion
	// (RFC 7523 section 2.2). Kafka's first preference: when it is set,
	// Assertion is ignored (with a warning on Cache.Logger, as Kafka
	// logs one) and so is ClientSecret.
	AssertionFile string

	// Assertion authenticates the client with private_key_jwt (RFC
	// 7523): it builds and signs a short-lived client assertion for
	// every request (the sasl.oauthbearer.assertion.* settings with
	// claim.iss set, Kafka's second preference), as in
	// Assertion: &AssertionOptions{PrivateKey: key, KeyID: "k1"}.
	// Issuer and Subject default to ClientID, Audience to TokenURL, and
	// every assertion carries exp 5m ahead, nbf 60s back and a jti. When
	// set, ClientSecret is ignored, as in Kafka.
	Assertion *AssertionOptions

	// TLSClientAuth authenticates the client by the certificate of the
	// TLS connection alone (RFC 8705 tls_client_auth or
	// self_signed_tls_client_auth): the request carries client_id and no
	// secret or assertion, and servers bind the token to the certificate
	// (cnf.x5t#S256). HTTPClient must present the certificate
	// (idpclient.New with CertFile). Not combined with the other
	// authentication fields. Kafka's handler has no such mode: it always
	// sends a secret.
	TLSClientAuth bool

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
	// [oauthbearer.CacheOptions] defaults, named "oauth client credentials at <the TokenURL's origin>"
	// (scheme and host: the name names the endpoint in errors and labels
	// metrics, so no path).
	Cache *oauthbearer.CacheOptions
}

type clientCredentials struct {
	o    ClientCredentialsOptions
	mode int
	sign *signer // signedAssertion
	now  func() time.Time
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
	if err := ccOptions().checkTokenURL(o.TokenURL); err != nil {
		return nil, err
	}
	// The kind labels metrics: a fixed value. The default name adds the
	// endpoint's origin, so that a silent endpoint's error names it.
	const kind = "oauth client credentials"
	c := cacheopts.WithName(o.Cache, kind+" at "+oauthpost.Origin(o.TokenURL))
	cc := &clientCredentials{o: o, now: cacheopts.Now(c)}
	switch {
	case o.TLSClientAuth:
		if o.ClientSecret != "" || o.Assertion != nil || o.AssertionFile != "" {
			return nil, ccOptions().errorf("oauthclient: %s is set with a secret, key or assertion; the certificate is the credential: set only one way to authenticate", field("TLSClientAuth"))
		}
		if o.ClientID == "" {
			return nil, ccOptions().errorf("oauthclient: %s is empty; tls_client_auth sends it beside the certificate", field("ClientID"))
		}
		if o.HTTPClient == nil {
			return nil, ccOptions().errorf("oauthclient: %s is set, so %s must present the client certificate: it is empty (build one with idpclient.New and CertFile)", field("TLSClientAuth"), field("HTTPClient"))
		}
		cc.mode = tlsClientAuth
	case o.AssertionFile != "":
		if o.Assertion != nil {
			// Kafka's ClientCredentialsRequestFormatterFactory warns so.
			logger(c).Warn("oauthclient: both ClientCredentialsOptions.AssertionFile (sasl.oauthbearer.assertion.file) and a locally signed assertion are configured; using the file (first preference), the signing settings are ignored")
		}
		if err := ccOptions().checkAssertionFile(o.AssertionFile); err != nil {
			return nil, err
		}
		cc.mode = fileAssertion
		cc.o.Assertion = nil
	case o.Assertion != nil:
		a := *o.Assertion
		a.Issuer, a.Subject = cmp.Or(a.Issuer, o.ClientID), cmp.Or(a.Subject, o.ClientID)
		sg, err := newSigner(a, options{typ: ccOptions().typ, prefix: "Assertion."}, o.TokenURL, cc.now)
		if err != nil {
			return nil, err
		}
		cc.mode, cc.sign = signedAssertion, sg
	default:
		if o.ClientID == "" {
			return nil, ccOptions().errorf("oauthclient: %s is empty; set the OAuth client ID", field("ClientID"))
		}
		if o.ClientSecret == "" {
			return nil, ccOptions().errorf("oauthclient: ClientCredentialsOptions has none of AssertionFile, Assertion and ClientSecret; set %s (or one of the others) to authenticate the client", field("ClientSecret"))
		}
	}
	cc.o.HTTPClient = idphttp.Client(o.HTTPClient, "oauthclient")
	return oauthbearer.NewCache(cacheopts.Kind(cc, kind), c)
}

// How a clientCredentials source authenticates the client.
const (
	clientSecret    = iota // client_secret_basic
	fileAssertion          // AssertionFile (KIP-1258 first preference)
	signedAssertion        // Assertion (KIP-1258 second preference)
	tlsClientAuth          // the TLS client certificate (RFC 8705)
)

// logger returns the cache's logger, or one that discards.
func logger(c *oauthbearer.CacheOptions) *slog.Logger {
	if c != nil && c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Token performs one client-credentials request.
func (c *clientCredentials) Token(ctx context.Context) (oauthbearer.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.o.Scope != "" {
		form.Set("scope", c.o.Scope)
	}
	var setAuth func(*http.Request)
	switch {
	case c.mode == tlsClientAuth:
		form.Set("client_id", c.o.ClientID)
	case c.mode != clientSecret:
		// c.sign is nil for fileAssertion.
		a, err := ccOptions().assertion(ctx, c.o.AssertionFile, c.sign, c.now)
		if err != nil {
			return oauthbearer.Token{}, err
		}
		// As Kafka's ClientAssertionRequestFormatter: client_id only when
		// set.
		if c.o.ClientID != "" {
			form.Set("client_id", c.o.ClientID)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	default:
		setAuth = func(r *http.Request) {
			if c.o.RawBasicAuth {
				r.SetBasicAuth(c.o.ClientID, string(c.o.ClientSecret))
				return
			}
			r.SetBasicAuth(url.QueryEscape(c.o.ClientID), url.QueryEscape(string(c.o.ClientSecret)))
		}
	}
	start := c.now()
	tr, err := oauthpost.PostForm(ctx, c.o.HTTPClient, "oauthclient", c.o.TokenURL, form, setAuth)
	if err != nil {
		return oauthbearer.Token{}, refused(err)
	}
	return tr.Token("oauthclient", start, oauthpost.RedactURL(c.o.TokenURL))
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

// MarshalText encodes the options with the client secret, private key
// and passphrase redacted, so YAML, XML and JSON neither print the key
// (YAML follows pointers into *ecdsa.PrivateKey) nor walk the HTTP
// client by reflection.
func (o ClientCredentialsOptions) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "oauthclient.ClientCredentialsOptions{TokenURL:%s, ClientID:%q, ClientSecret:%s, AssertionFile:%q, Assertion:%s, Scope:%q}",
		oauthpost.RedactURL(o.TokenURL), o.ClientID, o.ClientSecret, o.AssertionFile, assertionText(o.Assertion), o.Scope), nil
}
