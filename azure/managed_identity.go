package azure

import (
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ManagedIdentityOptions configures [NewManagedIdentity].
type ManagedIdentityOptions struct {
	// Audience is the audience of the tokens (their aud claim), in one of
	// the forms [NormalizeAudience] accepts (the application ID is what the
	// Java client's IMDS URL passes as resource). Required. No environment
	// fallback.
	Audience string
	// ID selects a user-assigned identity: azidentity.ClientID("..."),
	// azidentity.ResourceID("/subscriptions/...") or
	// azidentity.ObjectID("..."). Default nil: the system-assigned
	// identity. No environment fallback (the default chain reads
	// AZURE_CLIENT_ID).
	ID azidentity.ManagedIDKind
	// RequireV2 is [WorkloadIdentityOptions.RequireV2].
	RequireV2 bool
	// HTTPClient sends the requests, handled and defaulted as
	// [WorkloadIdentityOptions.HTTPClient]. azidentity chooses the
	// managed-identity endpoint from the process environment
	// (IDENTITY_ENDPOINT, MSI_ENDPOINT, ...; default IMDS).
	HTTPClient *http.Client
	// Retry is azcore's retry policy for the requests of one fetch, the
	// one part of azidentity's client options this source honours (HTTP
	// goes through HTTPClient). Zero fields get IMDS's start-up policy: 6
	// retries from 2s up to 25s apart on 404 and 410, and on
	// network failures other than an unreachable endpoint (connection
	// refused, no route, unknown host), which fails the fetch at once with
	// "no managed identity reachable" (see the troubleshooting guide). Each
	// fetch is bounded by Cache.FetchTimeout (default 30s); a longer IMDS
	// outage (its ~70s of 410 answers while it upgrades) is ridden out by
	// the cache's early refresh and backoff, not by one fetch. 429 and
	// 5xx are not retried inside a fetch: the cache retries them, spread
	// above the Retry-After, so that throttled processes do not come back
	// in the same second and an outage costs at most one request per
	// CacheOptions.MaxBackoff (azcore's retries honour Retry-After
	// without jitter and would multiply each fetch's requests).
	Retry policy.RetryOptions
	// Cache tunes the refreshing cache; its Logger receives this source's
	// warnings too. Default: its defaults, named "azure managed identity".
	Cache *oauthbearer.CacheOptions
}

// NewManagedIdentity returns a refreshing token source for an Azure
// managed identity (VM, scale set, AKS node pool, App Service, ...),
// through azidentity's ManagedIdentityCredential.
//
// Every fetch, and so every refresh of the cache, reaches the identity
// endpoint: MSAL's process-wide managed-identity cache is skipped (see
// the package doc). The endpoint itself (IMDS) may still answer with a
// token it cached; IMDS tokens live about 24 hours.
func NewManagedIdentity(opts *ManagedIdentityOptions) (*oauthbearer.Cache, error) {
	var o ManagedIdentityOptions
	if opts != nil {
		o = *opts
	}
	scope, err := NormalizeAudience(o.Audience)
	if err != nil {
		return nil, err
	}
	cacheOpts := cacheopts.WithName(o.Cache, "azure managed identity")
	base := &credSource{scope: scope, requireV2: o.RequireV2, log: loggerOr(cacheOpts.Logger)}
	src, err := newManagedIdentitySource(base, o.ID, clientOptions(o.HTTPClient, o.Retry, true, imdsStatusCodes...))
	if err != nil {
		return nil, err
	}
	return oauthbearer.NewCache(cacheopts.Kind(src, "azure managed identity"), cacheOpts)
}

// newManagedIdentitySource is the managed identity id as a source derived
// from base (scope, RequireV2, logger), for [NewManagedIdentity] and the
// default chain's managed identity step. Every fetch skips MSAL's
// process-wide managed-identity cache.
func newManagedIdentitySource(base *credSource, id azidentity.ManagedIDKind, co azcore.ClientOptions) (*credSource, error) {
	cred, err := newManagedIdentityCredential(id, co)
	if err != nil {
		return nil, err
	}
	desc, clientID := describeID(id)
	s := base.derive(hintContext{source: "managed identity", scope: base.scope, identity: desc, clientID: clientID}, cred)
	s.bypassCache = true
	return s, nil
}

// describeID names a managed identity for messages, and returns its
// client ID when it is selected by one.
func describeID(id azidentity.ManagedIDKind) (desc, clientID string) {
	switch id := id.(type) {
	case nil:
		return "system-assigned identity", ""
	case azidentity.ClientID:
		return fmt.Sprintf("user-assigned identity with client ID %q", string(id)), string(id)
	case azidentity.ResourceID:
		return fmt.Sprintf("user-assigned identity with resource ID %q", string(id)), ""
	case azidentity.ObjectID:
		return fmt.Sprintf("user-assigned identity with object ID %q", string(id)), ""
	}
	return fmt.Sprintf("user-assigned identity %s", id), ""
}

// imdsStatusCodes are the statuses managed identity retries inside one
// fetch unless its Retry names others: IMDS starting or upgrading. Not
// 429 and 5xx: the cache retries those, with jitter (clientOptions).
var imdsStatusCodes = []int{http.StatusNotFound, http.StatusGone}

// newManagedIdentityCredential makes azidentity's credential with IMDS's
// retry policy; co has the module's transport and the retried statuses
// already (clientOptions with imdsStatusCodes).
func newManagedIdentityCredential(id azidentity.ManagedIDKind, co azcore.ClientOptions) (*azidentity.ManagedIdentityCredential, error) {
	r := &co.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 6
	}
	if r.RetryDelay == 0 {
		r.RetryDelay = 2 * time.Second
	}
	if r.MaxRetryDelay == 0 {
		r.MaxRetryDelay = 25 * time.Second
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: id, ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("azure: managed identity: %w; check the managed-identity environment variables (IDENTITY_ENDPOINT, MSI_ENDPOINT)", err)
	}
	return cred, nil
}
