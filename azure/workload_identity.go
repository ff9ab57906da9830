package azure

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Environment variables the AKS workload identity webhook injects into a
// pod, read by [NewWorkloadIdentity] and [NewDefaultChain].
const (
	EnvClientID           = "AZURE_CLIENT_ID"
	EnvTenantID           = "AZURE_TENANT_ID"
	EnvFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE"
	EnvAuthorityHost      = "AZURE_AUTHORITY_HOST"
)

// WorkloadIdentityOptions configures [NewWorkloadIdentity]. Every field
// but Audience falls back to the environment the AKS workload identity
// webhook sets up.
type WorkloadIdentityOptions struct {
	// Audience is the audience of the tokens (their aud claim), in one of
	// the forms [NormalizeAudience] accepts. Required. No environment
	// fallback.
	Audience string
	// ClientID is the client ID of the App Registration or user-assigned
	// identity that trusts the service account. Default: $AZURE_CLIENT_ID.
	ClientID string
	// TenantID is its tenant. Default: $AZURE_TENANT_ID.
	TenantID string
	// TokenFilePath is the projected Kubernetes service-account token.
	// The file is read on every fetch, within the fetch's context,
	// because the kubelet rotates it; it must be a regular file of at
	// most 64 KiB. NewWorkloadIdentity only checks that it exists and is
	// one, without reading it. Default: $AZURE_FEDERATED_TOKEN_FILE.
	TokenFilePath string
	// AuthorityHost is Microsoft Entra's https URL. Default:
	// $AZURE_AUTHORITY_HOST, else
	// https://login.microsoftonline.com/.
	AuthorityHost string
	// DisableInstanceDiscovery skips MSAL's instance-metadata request to
	// login.microsoft.com; set it for private or disconnected clouds (and
	// emulators). Default false. No environment fallback.
	DisableInstanceDiscovery bool
	// RequireV2 makes a v1 token an error (matching [ErrV1Token], with the
	// fix) instead of a logged warning. Default false.
	RequireV2 bool
	// Getenv reads the environment. Default os.Getenv; tests inject a map.
	Getenv func(string) string
	// HTTPClient sends the requests to Entra (azidentity's transport), on
	// a shallow copy that never follows redirects, with every reply read
	// through a 1 MiB limit. Default: a client with a 30s timeout that
	// keeps no idle connections.
	HTTPClient *http.Client
	// Retry is azcore's retry policy for the requests of one fetch, the
	// one part of azidentity's client options this source honours (HTTP
	// goes through HTTPClient, the authority through AuthorityHost).
	// Default: azcore's defaults, except StatusCodes: no status is
	// retried inside a fetch unless StatusCodes names it, since 429 and
	// 5xx are retried by the cache, spread above the Retry-After (azcore
	// retries network failures only).
	Retry policy.RetryOptions
	// Cache tunes the refreshing cache; its Logger receives this source's
	// warnings too. Default: its defaults, named "azure workload identity".
	Cache *oauthbearer.CacheOptions
}

// NewWorkloadIdentity returns a refreshing token source for AKS (or any
// Kubernetes) workload identity: it exchanges the pod's service-account
// token for a Microsoft Entra token, through azidentity's client-assertion
// credential.
//
// Unlike azidentity's WorkloadIdentityCredential, which keeps the file's
// content for 10 minutes, the token file is read on every fetch, and each
// fetch asks Entra for a new token instead of MSAL's cached one, so a
// refresh after a broker rejected a token really gets a new one.
func NewWorkloadIdentity(opts *WorkloadIdentityOptions) (*oauthbearer.Cache, error) {
	var o WorkloadIdentityOptions
	if opts != nil {
		o = *opts
	}
	cacheOpts := cacheopts.WithName(o.Cache, "azure workload identity")
	src, err := newWorkloadSource(&o, loggerOr(cacheOpts.Logger))
	if err != nil {
		return nil, err
	}
	return oauthbearer.NewCache(cacheopts.Kind(src, "azure workload identity"), cacheOpts)
}

func newWorkloadSource(opts *WorkloadIdentityOptions, log *slog.Logger) (*credSource, error) {
	o := *opts
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	scope, err := NormalizeAudience(o.Audience)
	if err != nil {
		return nil, err
	}
	fill := func(v *string, field, env string) error {
		if *v == "" {
			*v = strings.TrimSpace(getenv(env))
		}
		if *v == "" {
			return fmt.Errorf("azure: workload identity: %s is not set and WorkloadIdentityOptions.%s is empty; "+
				"label the pod azure.workload.identity/use: \"true\" with a service account annotated azure.workload.identity/client-id, or set %s; %s", env, field, field, troubleshooting.See("azure-workload-identity-settings"))
		}
		return nil
	}
	if err := errors.Join(fill(&o.ClientID, "ClientID", EnvClientID), fill(&o.TenantID, "TenantID", EnvTenantID),
		fill(&o.TokenFilePath, "TokenFilePath", EnvFederatedTokenFile)); err != nil {
		return nil, err
	}
	// Fail now on a missing file or one that is not a regular file,
	// without reading it: reading happens in each fetch, under its
	// context.
	if err := checkTokenFile(o.TokenFilePath); err != nil {
		return nil, err
	}
	co := clientOptions(o.HTTPClient, o.Retry, false)
	host := o.AuthorityHost
	if host == "" {
		host = getenv(EnvAuthorityHost)
	}
	if host == "" {
		host = cloud.AzurePublic.ActiveDirectoryAuthorityHost
	}
	if !strings.HasPrefix(host, "https://") {
		return nil, fmt.Errorf("azure: workload identity: authority host %q (AuthorityHost / %s) is not an https URL; use https://login.microsoftonline.com/ or your cloud's Entra host", srvtext.URL(host), EnvAuthorityHost)
	}
	co.Cloud.ActiveDirectoryAuthorityHost = host
	caOpts := &azidentity.ClientAssertionCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery}
	tenant, client, file := o.TenantID, o.ClientID, o.TokenFilePath
	// Fail now on what azidentity rejects at construction (tenant ID
	// syntax, authority host).
	if _, err := azidentity.NewClientAssertionCredential(tenant, client, func(context.Context) (string, error) { return "", nil }, caOpts); err != nil {
		return nil, fmt.Errorf("azure: workload identity: %w; check TenantID / %s (%q) and AuthorityHost / %s (%q)", err, EnvTenantID, tenant, EnvAuthorityHost, host)
	}
	return &credSource{
		hint:      hintContext{source: "workload identity", scope: scope, clientID: client, tenantID: tenant, file: file},
		scope:     scope,
		requireV2: o.RequireV2,
		log:       log,
		cred: func(ctx context.Context) (azcore.TokenCredential, error) {
			assertion, err := readAssertion(ctx, file)
			if err != nil {
				return nil, err
			}
			// A new credential per fetch: its MSAL cache is empty, so the
			// request reaches Entra with the assertion just read.
			return azidentity.NewClientAssertionCredential(tenant, client,
				func(context.Context) (string, error) { return assertion, nil }, caOpts)
		},
	}, nil
}

// pathErr drops the path from an *fs.PathError, which the message names
// already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// tokenFileErr describes a federated token file that cannot be used. It
// names the file and the setting, never the content.
func tokenFileErr(path string, err error) error {
	fix := "check the pod's projected service-account token volume"
	switch {
	case errors.Is(err, boundedfile.ErrNotRegular):
		fix = "point it at the projected service-account token itself, a regular file"
	case errors.Is(err, boundedfile.ErrTooLarge):
		fix = "point it at the projected service-account token, a JWT of a few kilobytes"
	}
	return fmt.Errorf("azure: workload identity: cannot read the federated token file %q (TokenFilePath / %s): %w; %s; %s",
		path, EnvFederatedTokenFile, pathErr(err), fix, troubleshooting.See("azure-federated-token-file"))
}

// checkTokenFile fails on a federated token file that is missing or not
// a regular file. It does not open the file, so it cannot block.
func checkTokenFile(path string) error {
	size, err := boundedfile.Check(path)
	if err != nil {
		return tokenFileErr(path, err)
	}
	if size == 0 {
		return emptyTokenFileErr(path)
	}
	if size > boundedfile.TokenLimit {
		return tokenFileErr(path, fmt.Errorf("%w: %d bytes, more than the limit of %d bytes", boundedfile.ErrTooLarge, size, boundedfile.TokenLimit))
	}
	return nil
}

// readAssertion reads the federated token file, a regular file of at most
// 64 KiB, within ctx. Its errors name the file, never its content.
func readAssertion(ctx context.Context, path string) (string, error) {
	b, err := boundedfile.Read(ctx, path, boundedfile.TokenLimit)
	if err != nil {
		return "", tokenFileErr(path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", emptyTokenFileErr(path)
	}
	return s, nil
}

func emptyTokenFileErr(path string) error {
	return fmt.Errorf("azure: workload identity: the federated token file %q (TokenFilePath / %s) is empty; "+
		"check the pod's projected service-account token volume; %s", path, EnvFederatedTokenFile, troubleshooting.See("azure-federated-token-file"))
}
