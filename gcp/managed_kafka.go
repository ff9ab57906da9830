package gcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ManagedKafkaOptions configures [NewManagedKafka]. The zero value (or nil)
// is valid: Application Default Credentials, principal discovered.
type ManagedKafkaOptions struct {
	// Principal is the email put in the token's "sub" claim, which Google
	// Managed Kafka takes as the principal. Default: discovered from the
	// credentials as Google's Java handler does: the metadata server's
	// service-account email, a service-account key's client_email, or the
	// service account an impersonated or external account impersonates.
	// Required for credentials that name no service account (gcloud user
	// credentials, external accounts without impersonation). No
	// environment fallback.
	Principal string

	// CredentialsJSON is the content of a Google credentials file (a
	// service-account key, an impersonated_service_account or
	// external_account configuration), used instead of Application
	// Default Credentials. It is never logged or quoted. Default: ADC.
	CredentialsJSON []byte

	// MetadataServer skips ADC discovery and reads the token from the
	// Google Cloud metadata server (GCE, GKE workload identity, Cloud
	// Run), which is what ADC does on Google Cloud without a credentials
	// file. GCE_METADATA_HOST redirects it. Default false.
	MetadataServer bool

	// HTTPClient sends the requests to the metadata server and Google's
	// token endpoints, on a copy that refuses redirects and reads replies
	// through a 1 MiB limit. Default: a client without keep-alives and a
	// 30s timeout.
	HTTPClient *http.Client

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "gcp managed kafka". Its
	// Clock also stamps the token's iat and exp.
	Cache *oauthbearer.CacheOptions
}

// managedKafkaScope is the wrapper's "scope" claim, as Google's handler
// writes it.
const managedKafkaScope = "kafka"

// managedKafkaHeader is the wrapper's header, byte for byte what Google's
// handler (Gson over an ImmutableMap) produces.
const managedKafkaHeader = `{"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}`

type managedKafka struct {
	c         *creds
	principal string
	email     memo
	now       func() time.Time
}

// NewManagedKafka returns a cached source of tokens for Google Cloud
// Managed Service for Apache Kafka's SASL/OAUTHBEARER: a Google OAuth2
// access token (scope https://www.googleapis.com/auth/cloud-platform,
// from Application Default Credentials) wrapped as Google's Java
// GcpLoginCallbackHandler wraps it: three base64url segments without
// padding, the header {"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}, the claims
// {"exp":<access token expiry>,"iat":<now>,"scope":"kafka","sub":<email>},
// and the access token itself. The token's Principal is the email.
//
// The principal needs roles/managedkafka.client on the cluster's project.
// The cluster speaks TLS only: configure the Kafka client with TLS and
// bootstrap.<cluster>.<region>.managedkafka.<project>.cloud.goog:9092.
//
// ctx bounds ADC discovery only; it is not kept.
func NewManagedKafka(ctx context.Context, opts *ManagedKafkaOptions) (*oauthbearer.Cache, error) {
	var o ManagedKafkaOptions
	if opts != nil {
		o = *opts
	}
	if o.Principal != "" && strings.TrimSpace(o.Principal) != o.Principal {
		return nil, fmt.Errorf("gcp: ManagedKafkaOptions.Principal %s has leading or trailing spaces; use the service account's email", srvtext.Quote(o.Principal, 0))
	}
	c, err := resolve(ctx, "ManagedKafkaOptions", o.CredentialsJSON, o.MetadataServer, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	m := &managedKafka{c: c, principal: o.Principal, now: cacheopts.Now(o.Cache)}
	if m.principal == "" && c.json != nil {
		e, ok := c.fileEmail()
		if !ok {
			return nil, fmt.Errorf("gcp: the %q credentials from %s name no service account, so the Managed Kafka principal is unknown; set ManagedKafkaOptions.Principal to the email the cluster's IAM policy grants roles/managedkafka.client; %s", c.typ, c.setting, see("gcp-principal"))
		}
		m.principal = e
	}
	return oauthbearer.NewCache(cacheopts.Kind(m, "gcp managed kafka"), cacheopts.WithName(o.Cache, "gcp managed kafka"))
}

// Token gets one access token and wraps it. It is the raw source under
// the cache.
func (m *managedKafka) Token(ctx context.Context) (oauthbearer.Token, error) {
	var access string
	var expiry time.Time
	principal := m.principal
	if m.c.json == nil {
		if principal == "" {
			e, err := m.email.get(ctx, func(ctx context.Context) (string, error) {
				return m.c.metadataGet(ctx, "the service account's email", "instance/service-accounts/default/email")
			})
			if err != nil {
				return oauthbearer.Token{}, err
			}
			principal = strings.TrimSpace(e)
		}
		v, err := m.c.metadataGet(ctx, "an access token", "instance/service-accounts/default/token?"+url.Values{"scopes": {CloudPlatformScope}}.Encode())
		if err != nil {
			return oauthbearer.Token{}, err
		}
		var r struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   *int64 `json:"expires_in"`
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil || r.AccessToken == "" {
			return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf("gcp: the metadata server at %s sent a token reply that is not JSON with an access_token; %s", m.c.mdHost, see("gcp-not-on-gcp")), 0)
		}
		if r.ExpiresIn == nil {
			return oauthbearer.Token{}, fmt.Errorf("gcp: the metadata server at %s sent an access token without expires_in, so its expiry is unknown; %s", m.c.mdHost, see("gcp-not-on-gcp"))
		}
		access, expiry = r.AccessToken, m.now().Add(time.Duration(*r.ExpiresIn)*time.Second)
	} else {
		ts, err := m.c.fromJSON(ctx, []string{CloudPlatformScope})
		if err != nil {
			return oauthbearer.Token{}, err
		}
		t, err := oauthToken(ctx, ts)
		if err != nil {
			return oauthbearer.Token{}, m.c.tokenError("an access token", err)
		}
		if t.Expiry.IsZero() {
			return oauthbearer.Token{}, fmt.Errorf("gcp: the %q credentials from %s gave an access token without an expiry; %s", m.c.typ, m.c.setting, see("gcp-no-adc"))
		}
		access, expiry = t.AccessToken, t.Expiry
	}
	if principal == "" {
		return oauthbearer.Token{}, fmt.Errorf("gcp: the metadata server at %s returned an empty service-account email; set ManagedKafkaOptions.Principal; %s", m.c.mdHost, see("gcp-principal"))
	}
	return oauthbearer.Token{
		Value:     wrapManagedKafka(access, principal, expiry, m.now()),
		Expiry:    expiry,
		Principal: principal,
	}, nil
}

// wrapManagedKafka builds the token exactly as GcpLoginCallbackHandler's
// getKafkaAccessToken does: the claims in Gson's order for an
// ImmutableMap (exp, iat, scope, sub), epoch seconds, each segment
// base64url without padding. The third segment is the access token's
// bytes, encoded.
func wrapManagedKafka(access, sub string, expiry, now time.Time) string {
	claims, _ := json.Marshal(struct {
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Scope string `json:"scope"`
		Sub   string `json:"sub"`
	}{expiry.Unix(), now.Unix(), managedKafkaScope, sub})
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(managedKafkaHeader)) + "." + e(claims) + "." + e([]byte(access))
}
