package azure

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ManagedIdentityOptions configures [NewManagedIdentity]. Set at most one
// of ClientID, ResourceID and ObjectID; with none, the machine's
// system-assigned identity is used.
type ManagedIdentityOptions struct {
	// Target is the audience of the tokens: the Kafka App Registration's
	// application ID (what the Java client's IMDS URL passes as resource),
	// its api:// application ID URI, or a <resource>/.default scope.
	// Required. No environment fallback.
	Target string
	// ClientID selects a user-assigned identity by client ID. Default:
	// none (system-assigned). No environment fallback (the default chain
	// reads AZURE_CLIENT_ID).
	ClientID string
	// ResourceID selects a user-assigned identity by ARM resource ID.
	// Default: none. No environment fallback.
	ResourceID string
	// ObjectID selects a user-assigned identity by object (principal) ID.
	// Default: none. No environment fallback.
	ObjectID string
	// RequireV2 makes a v1 token an error (matching [ErrV1Token], with the
	// fix) instead of a logged warning. Default false.
	RequireV2 bool
	// ClientOptions configures azidentity's HTTP pipeline: Transport
	// (tests route 169.254.169.254 to an emulator with it) and Retry.
	// Zero Retry fields get IMDS's recommended policy: 6 retries from 2s
	// up to 25s apart on 404, 410, 429 and 5xx, which rides out the ~70s
	// of 410 IMDS answers while it upgrades. azidentity chooses the
	// managed-identity endpoint from the process environment
	// (IDENTITY_ENDPOINT, MSI_ENDPOINT, ...; default IMDS).
	ClientOptions azcore.ClientOptions
	// Logger receives warnings and, unless Cache.Logger is set, the
	// cache's refresh records. Never the token. Default: discard.
	Logger *slog.Logger
	// Cache tunes the refreshing cache. Its FetchTimeout defaults to 2m
	// here (not 30s) so that azidentity's IMDS retries can finish.
	Cache *oauthbearer.CacheOptions
}

// NewManagedIdentity returns a refreshing token source for an Azure
// managed identity (VM, scale set, AKS node pool, App Service, ...),
// through azidentity's ManagedIdentityCredential.
//
// azidentity keeps managed-identity tokens in a process-wide cache and
// IMDS caches them too, so a refresh may return the same token until it
// nears expiry (IMDS tokens live about 24 hours; MSAL renews them after
// half their life).
func NewManagedIdentity(opts *ManagedIdentityOptions) (*oauthbearer.Cache, error) {
	var o ManagedIdentityOptions
	if opts != nil {
		o = *opts
	}
	scope, err := NormalizeTarget(o.Target)
	if err != nil {
		return nil, err
	}
	id, desc, err := managedIDKind(o.ClientID, o.ResourceID, o.ObjectID)
	if err != nil {
		return nil, err
	}
	cred, err := newManagedIdentityCredential(id, o.ClientOptions)
	if err != nil {
		return nil, err
	}
	src := &credSource{
		hint:      hintContext{source: "managed identity", scope: scope, identity: desc, clientID: o.ClientID},
		scope:     scope,
		requireV2: o.RequireV2,
		log:       loggerOr(o.Logger),
		cred:      func(context.Context) (azcore.TokenCredential, error) { return cred, nil },

		bypassCacheOnInvalidate: true,
	}
	return newCache(src, "managed identity", o.Logger, o.Cache, miCacheDefaults)
}

func miCacheDefaults(c *oauthbearer.CacheOptions) {
	if c.FetchTimeout == 0 {
		c.FetchTimeout = 2 * time.Minute
	}
}

func managedIDKind(clientID, resourceID, objectID string) (azidentity.ManagedIDKind, string, error) {
	var id azidentity.ManagedIDKind
	desc := "system-assigned identity"
	n := 0
	if clientID != "" {
		id, desc, n = azidentity.ClientID(clientID), fmt.Sprintf("user-assigned identity with client ID %q", clientID), n+1
	}
	if resourceID != "" {
		id, desc, n = azidentity.ResourceID(resourceID), fmt.Sprintf("user-assigned identity with resource ID %q", resourceID), n+1
	}
	if objectID != "" {
		id, desc, n = azidentity.ObjectID(objectID), fmt.Sprintf("user-assigned identity with object ID %q", objectID), n+1
	}
	if n > 1 {
		return nil, "", fmt.Errorf("azure: ManagedIdentityOptions sets %d of ClientID (%q), ResourceID (%q) and ObjectID (%q); set exactly one to select a user-assigned identity, or none for the system-assigned identity",
			n, clientID, resourceID, objectID)
	}
	return id, desc, nil
}

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
	if r.StatusCodes == nil {
		r.StatusCodes = []int{http.StatusNotFound, http.StatusGone, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusNotImplemented, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	}
	limitBodies(&co)
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: id, ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("azure: managed identity: %w; check the managed-identity environment variables (IDENTITY_ENDPOINT, MSI_ENDPOINT)", err)
	}
	return cred, nil
}
