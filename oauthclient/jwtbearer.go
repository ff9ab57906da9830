package oauthclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// JWTBearerGrantType is the grant_type of the RFC 7523 section 2.1
// authorization grant.
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// JWTBearerOptions configures [NewJWTBearer], the RFC 7523 jwt-bearer
// authorization grant that Kafka's JwtBearerJwtRetriever performs
// (KIP-1139): the client sends a signed JWT, the assertion, and gets an
// access token for the assertion's subject. Set exactly one of Assertion
// and AssertionFile. Fields have no environment fallback.
type JWTBearerOptions struct {
	// TokenURL is the identity provider's token endpoint
	// (sasl.oauthbearer.token.endpoint.url). Required; https, or http to
	// a loopback host.
	TokenURL string

	// AssertionFile is a file holding a pre-generated assertion
	// (sasl.oauthbearer.assertion.file), read on every refresh, so that
	// whatever writes it can rotate it.
	AssertionFile string

	// Assertion builds and signs an assertion for every request (the
	// other sasl.oauthbearer.assertion.* settings), with the same fields
	// and defaults as [ClientCredentialsOptions.Assertion], except that
	// Issuer and Subject have no default: RFC 7523 requires iss, sub and
	// aud, and a template file may give them.
	Assertion *AssertionOptions

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
	return fmt.Appendf(nil, "oauthclient.JWTBearerOptions{TokenURL:%s, AssertionFile:%q, Assertion:%s, Scope:%q}",
		oauthpost.RedactURL(o.TokenURL), o.AssertionFile, assertionText(o.Assertion), o.Scope), nil
}

type jwtBearer struct {
	o    JWTBearerOptions
	now  func() time.Time
	sign *signer // nil with AssertionFile
	opts options // names JWTBearerOptions fields in errors
}

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
	if err := n.checkTokenURL(o.TokenURL); err != nil {
		return nil, err
	}
	switch {
	case o.Assertion == nil && o.AssertionFile == "":
		return nil, n.errorf("oauthclient: neither %s nor %s is set; set one: the settings to sign assertions with, or a file holding a pre-generated one", field("Assertion"), field("AssertionFile"))
	case o.Assertion != nil && o.AssertionFile != "":
		return nil, n.errorf("oauthclient: both %s and %s are set; set only one: the settings to sign assertions with, or a file holding a pre-generated one", field("Assertion"), field("AssertionFile"))
	}
	const kind = "oauth jwt-bearer" // fixed: it labels metrics
	c := cacheopts.WithName(o.Cache, kind+" at "+oauthpost.Origin(o.TokenURL))
	s := &jwtBearer{o: o, now: cacheopts.Now(c), opts: n}
	if o.AssertionFile != "" {
		if err := n.checkAssertionFile(o.AssertionFile); err != nil {
			return nil, err
		}
	} else {
		sg, err := newSigner(*o.Assertion, options{typ: n.typ, prefix: "Assertion."}, o.TokenURL, s.now)
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
	a, err := s.opts.assertion(ctx, s.o.AssertionFile, s.sign, s.now)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	form := url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {a}}
	if s.o.Scope != "" {
		form.Set("scope", s.o.Scope)
	}
	start := s.now()
	tr, err := oauthpost.PostForm(ctx, s.o.HTTPClient, "oauthclient", s.o.TokenURL, form, nil)
	if err != nil {
		return oauthbearer.Token{}, refused(err)
	}
	return tr.Token("oauthclient", start, oauthpost.RedactURL(s.o.TokenURL))
}
