package gcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/jwt"

	"github.com/streamidentity/kafka-workload-identity/internal/audience"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// IDTokenOptions configures [NewIDToken]. Only Audience is required.
type IDTokenOptions struct {
	// Audience is the ID token's "aud": what the Kafka cluster expects
	// (its expected.audience; for Confluent Cloud, the identity pool's
	// audience). Required. No environment fallback.
	Audience string

	// CredentialsJSON is the content of a service-account key file, used
	// instead of Application Default Credentials. It is never logged or
	// quoted. Default: ADC, which must resolve to the metadata server or
	// a service-account key.
	CredentialsJSON []byte

	// MetadataServer skips ADC discovery and asks the Google Cloud
	// metadata server (GCE, GKE workload identity, Cloud Run) for the
	// token. GCE_METADATA_HOST redirects it. Default false.
	MetadataServer bool

	// HTTPClient sends the requests, on a copy that refuses redirects and
	// reads replies through a 1 MiB limit. Default: a client without
	// keep-alives and a 30s timeout.
	HTTPClient *http.Client

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "gcp id token".
	Cache *oauthbearer.CacheOptions
}

type idToken struct {
	c        *creds
	audience string
	key      *jwt.Config
}

// NewIDToken returns a cached source of Google-signed OIDC ID tokens
// (RS256, iss https://accounts.google.com, aud Audience, sub the service
// account's numeric unique ID, email) for Kafka clusters that validate
// JWTs against Google's JWKS (https://www.googleapis.com/oauth2/v3/certs).
// The token's Principal is its sub.
//
// Where the token comes from follows ADC: the metadata server
// (.../service-accounts/default/identity?audience=A&format=full) on
// Google Cloud, or a service-account key file (signed assertion exchanged
// at Google's token endpoint). Other credential types (gcloud user
// credentials, impersonated and external accounts) are refused with an
// error that says what to use instead.
//
// ctx bounds ADC discovery only; it is not kept.
func NewIDToken(ctx context.Context, opts *IDTokenOptions) (*oauthbearer.Cache, error) {
	var o IDTokenOptions
	if opts != nil {
		o = *opts
	}
	if err := audience.Check("gcp.IDTokenOptions", "Audience", o.Audience, see("gcp-audience")); err != nil {
		return nil, err
	}
	c, err := resolve(ctx, "IDTokenOptions", o.CredentialsJSON, o.MetadataServer, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	s := &idToken{c: c, audience: o.Audience}
	if c.json != nil {
		if c.typ != "service_account" {
			return nil, fmt.Errorf("gcp: the %q credentials from %s cannot sign ID tokens here; NewIDToken supports the metadata server (GCE, GKE workload identity, Cloud Run) and service-account keys; %s", c.typ, c.setting, see("gcp-id-token-credentials"))
		}
		cfg, err := google.JWTConfigFromJSON(c.json)
		if err != nil {
			return nil, fmt.Errorf("gcp: the service-account key from %s does not parse (%s); %s", c.setting, srvtext.Clip(srvtext.Field(err.Error()), 300), see("gcp-no-adc"))
		}
		// The jwt-bearer grant with target_audience returns an ID token
		// (what google.golang.org/api/idtoken does for keys).
		cfg.UseIDToken = true
		cfg.PrivateClaims = map[string]any{"target_audience": o.Audience}
		cfg.Scopes = nil
		s.key = cfg
	}
	return oauthbearer.NewCache(cacheopts.Kind(s, "gcp id token"), cacheopts.WithName(o.Cache, "gcp id token"))
}

// Token gets one ID token. It is the raw source under the cache.
func (s *idToken) Token(ctx context.Context) (oauthbearer.Token, error) {
	var raw string
	if s.key == nil {
		v, err := s.c.metadataGet(ctx, "an ID token", "instance/service-accounts/default/identity?"+url.Values{"audience": {s.audience}, "format": {"full"}}.Encode())
		if err != nil {
			return oauthbearer.Token{}, err
		}
		raw = strings.TrimSpace(v)
	} else {
		ts := s.key.TokenSource(contextWithClient(ctx, s.c))
		t, err := oauthToken(ctx, ts)
		if err != nil {
			return oauthbearer.Token{}, s.c.tokenError("an ID token", err)
		}
		raw = t.AccessToken
	}
	exp, sub, err := idClaims(raw)
	if err != nil {
		err = fmt.Errorf("gcp: the ID token from %s %w; %s", s.c.setting, err, see("gcp-not-on-gcp"))
		if errors.Is(err, errNoExp) {
			// A well-formed token without exp is not a glitch: asking
			// again brings the same.
			return oauthbearer.Token{}, err
		}
		return oauthbearer.Token{}, oauthbearer.Transient(err, 0)
	}
	return oauthbearer.Token{Value: raw, Expiry: exp, Principal: sub}, nil
}

var errNoExp = errors.New("has no exp claim, so its expiry is unknown")

// idClaims reads exp and sub from an ID token without verifying it: the
// broker verifies; the cache needs the expiry.
func idClaims(tok string) (time.Time, string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, "", fmt.Errorf("is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, "", fmt.Errorf("has claims that are not base64url")
	}
	var c struct {
		Exp *json.Number `json:"exp"`
		Sub string       `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return time.Time{}, "", fmt.Errorf("has claims that are not JSON")
	}
	if c.Exp == nil {
		return time.Time{}, c.Sub, errNoExp
	}
	f, err := c.Exp.Float64()
	if err != nil {
		return time.Time{}, c.Sub, fmt.Errorf("has an exp claim that is not a number")
	}
	return time.Unix(int64(f), 0), c.Sub, nil
}
