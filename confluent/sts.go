package confluent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/confluentid"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// DefaultSTSTokenURL is the token URL of Confluent Cloud's token exchange.
const DefaultSTSTokenURL = "https://api.confluent.cloud/sts/v1/oauth2/token"

// RFC 8693 identifiers the Confluent Cloud STS requires.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// STSOptions configures [NewSTS]. Fields have no environment fallback.
type STSOptions struct {
	// IdentityPoolID is the identity pool (pool-...) the Confluent token
	// is issued for. Required.
	IdentityPoolID string

	// TokenURL is the token-exchange URL, named as oauthclient's and
	// idptest.ConfluentSTS's. Default [DefaultSTSTokenURL].
	// It must be https, except for loopback hosts (local emulators).
	TokenURL string

	// Lifetime is the token lifetime to request (the exchange's
	// expires_in), in whole seconds. Default 0: the STS's default (900 s).
	Lifetime time.Duration

	// HTTPClient sends the requests. Its redirect policy is replaced (on
	// a shallow copy; yours is not modified): a redirect is never
	// followed but returned as an error matching
	// [oauthbearer.ErrRedirectRefused]. Default: a client with a 30s
	// timeout that keeps no idle connections.
	HTTPClient *http.Client

	// Cache tunes the refreshing cache around the exchange. Default: the
	// [oauthbearer.CacheOptions] defaults, named "confluent sts at <the endpoint's origin>" (scheme and host: the name
	// names the endpoint in errors and labels metrics, so no path).
	Cache *oauthbearer.CacheOptions
}

// stsSource is the raw (uncached) exchange.
type stsSource struct {
	subject   oauthbearer.TokenSource
	endpoint  string
	pool      string
	expiresIn time.Duration
	client    *http.Client
	now       func() time.Time // the cache's clock
}

// NewSTS returns a cached source of Confluent Cloud access tokens: each
// refresh takes a token from subject (an external identity provider's
// JWT, such as an Entra ID token from the azure package) and exchanges it
// at the Confluent Cloud STS for a token of opts.IdentityPoolID. These
// tokens are what Confluent Cloud's control-plane REST APIs accept.
//
// Throttling (429) and server errors (5xx) are transient and retried by
// the cache, honouring Retry-After; other refusals are permanent
// [*oauthclient.Error]s (wrapped; match with errors.As). When the STS refuses the subject token, the subject
// source is told to drop it ([oauthbearer.Invalidate]) so the next
// attempt uses a fresh one. A refused option is an
// [*oauthbearer.OptionError] naming its STSOptions field.
func NewSTS(subject oauthbearer.TokenSource, opts *STSOptions) (*oauthbearer.Cache, error) {
	if subject == nil {
		return nil, fmt.Errorf("confluent: NewSTS: the subject token source is nil; pass the source of your identity provider's JWTs")
	}
	var o STSOptions
	if opts != nil {
		o = *opts
	}
	if o.IdentityPoolID == "" {
		return nil, stsOptionError("IdentityPoolID", fmt.Errorf("confluent: STSOptions.IdentityPoolID is empty; set the identity pool ID (pool-...) to exchange tokens for"))
	}
	if err := confluentid.Check(confluentid.IdentityPool, "STSOptions.IdentityPoolID", o.IdentityPoolID); err != nil {
		return nil, stsOptionError("IdentityPoolID", fmt.Errorf("confluent: %w", err))
	}
	if o.TokenURL == "" {
		o.TokenURL = DefaultSTSTokenURL
	}
	if err := idphttp.CheckEndpoint("confluent", "STSOptions.TokenURL", o.TokenURL); err != nil {
		return nil, stsOptionError("TokenURL", err)
	}
	if o.Lifetime < 0 || o.Lifetime%time.Second != 0 {
		return nil, stsOptionError("Lifetime", fmt.Errorf("confluent: STSOptions.Lifetime is %s; use whole seconds, or 0 for the STS default", o.Lifetime))
	}
	o.HTTPClient = idphttp.Client(o.HTTPClient, "confluent")
	const kind = "confluent sts" // fixed: it labels metrics; the default name adds the endpoint's origin
	c := cacheopts.WithName(o.Cache, kind+" at "+oauthpost.Origin(o.TokenURL))
	return oauthbearer.NewCache(cacheopts.Kind(&stsSource{subject: subject, endpoint: o.TokenURL, pool: o.IdentityPoolID, expiresIn: o.Lifetime, client: o.HTTPClient, now: cacheopts.Now(c)}, kind), c)
}

// stsOptionError is a refused STSOptions field, as the
// *oauthbearer.OptionError every options type of this module returns.
func stsOptionError(field string, err error) error {
	return &oauthbearer.OptionError{Options: "confluent.STSOptions", Fields: []string{field}, Err: err}
}

// Token performs one exchange.
func (s *stsSource) Token(ctx context.Context) (oauthbearer.Token, error) {
	subj, err := s.subject.Token(ctx)
	if err != nil {
		return oauthbearer.Token{}, fmt.Errorf("confluent: getting the subject token for the STS exchange: %w", err)
	}
	form := url.Values{
		"grant_type":           {grantTokenExchange},
		"subject_token":        {subj.Value},
		"identity_pool_id":     {s.pool},
		"subject_token_type":   {tokenTypeJWT},
		"requested_token_type": {tokenTypeAccess},
	}
	if s.expiresIn > 0 {
		form.Set("expires_in", strconv.Itoa(int(s.expiresIn/time.Second)))
	}
	start := s.now()
	tr, err := oauthpost.PostForm(ctx, s.client, "confluent", s.endpoint, form, nil)
	if r, ok := errors.AsType[*oauthpost.Refusal](err); ok {
		oe := &oauthclient.Error{TokenURL: r.Endpoint, StatusCode: r.StatusCode, Code: r.Code, Description: r.Description}
		if oe.Code == "invalid_grant" || oe.StatusCode == http.StatusUnauthorized {
			oauthbearer.Invalidate(s.subject, subj)
			return oauthbearer.Token{}, fmt.Errorf("confluent: the STS refused the subject token; check that the identity provider registered in Confluent Cloud has the token's issuer and JWKS, that the pool's filter matches the token's claims, and that the token is not expired; %s: %w", troubleshooting.See("confluent-invalid-grant"), oe)
		}
		return oauthbearer.Token{}, fmt.Errorf("confluent: the STS exchange for %s was refused: %w", s.pool, oe)
	}
	if err != nil {
		return oauthbearer.Token{}, err
	}
	return tr.Token("confluent", start, oauthpost.RedactURL(s.endpoint))
}
