package azure

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// FromClientProperties builds the token source a Java client.properties
// file describes, whatever its kind, carrying the file's extensions: the
// Azure kinds (confluent-oauth-extensions' managed identity and workload
// identity forms) here, every other kind through
// [clientprops.Config.NewSource]. So a caller holding a file of unknown
// kind calls this one function.
//
// The file's token endpoint is checked against the allow-list
// ([clientprops.BuildOptions.AllowedURLs]) by clientprops, before anything
// is built, for every kind. Managed identity uses the identity the IMDS
// URL names (client_id, msi_res_id or object_id; none: system-assigned)
// and the resource as the audience; workload identity takes the client ID
// and token file from AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE
// (opts.Getenv), as the Java handler does. The file's sasl.login.* tuning
// becomes the cache's options.
func FromClientProperties(cfg *clientprops.Config, opts *clientprops.BuildOptions) (*oauthbearer.ExtensionSource, error) {
	if cfg == nil {
		return nil, errors.New("azure: FromClientProperties: the configuration is nil; pass what clientprops.Parse or ParseFile returned")
	}
	// NewSource checks the allow-list for every kind and builds those that
	// need no cloud SDK; an Azure kind comes back as a *KindError.
	es, err := cfg.NewSource(opts)
	if !errors.Is(err, clientprops.ErrNeedsCloudSDK) {
		return es, err
	}
	var o clientprops.BuildOptions
	if opts != nil {
		o = *opts
	}
	spec := cfg.Source
	var src *oauthbearer.Cache
	switch spec.Kind {
	case clientprops.SourceAzureManagedIdentity:
		if spec.IMDSEndpoint != "" {
			return nil, fmt.Errorf("azure: client.properties line %d: the IMDS URL's host %s is not 169.254.169.254, which cannot be honoured (azidentity picks the managed-identity endpoint from the environment); use the standard IMDS URL",
				cfg.TokenURL.Line, srvtext.Quote(spec.IMDSEndpoint, 0))
		}
		src, err = NewManagedIdentity(&ManagedIdentityOptions{
			Audience: propsScope(spec), ID: propsManagedID(spec), HTTPClient: o.HTTPClient, Cache: cfg.Cache,
		})
	case clientprops.SourceAzureWorkloadIdentity:
		// The file cannot set these (the Java handler reads them from the
		// environment too), so name the file's line and the variable, not
		// WorkloadIdentityOptions fields the user never sees.
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		var missing []string
		for _, env := range []string{EnvClientID, EnvFederatedTokenFile} {
			if strings.TrimSpace(getenv(env)) == "" {
				missing = append(missing, env)
			}
		}
		if len(missing) > 0 {
			verb := "is"
			if len(missing) > 1 {
				verb = "are"
			}
			return nil, fmt.Errorf("azure: client.properties line %d: %s: useWorkloadIdentity='true' reads the workload's identity from the environment, but %s %s not set; "+
				"label the pod azure.workload.identity/use: \"true\" with a service account annotated azure.workload.identity/client-id; %s",
				cfg.TokenURL.Line, cfg.TokenURL.Key, strings.Join(missing, " and "), verb, troubleshooting.See("azure-workload-identity-settings"))
		}
		src, err = NewWorkloadIdentity(&WorkloadIdentityOptions{
			Audience: propsScope(spec), TenantID: spec.TenantID, AuthorityHost: spec.AuthorityHost,
			Getenv: o.Getenv, HTTPClient: o.HTTPClient, Cache: cfg.Cache,
		})
	default:
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	es, err = oauthbearer.WithExtensions(src, cfg.AllExtensions())
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	return es, nil
}

// propsScope is the scope to ask Azure for: the file's scope, or the IMDS
// resource + "/.default".
func propsScope(s clientprops.SourceSpec) string {
	if s.Scope != "" {
		return s.Scope
	}
	if s.Resource != "" {
		return strings.TrimSuffix(s.Resource, "/") + "/.default"
	}
	return ""
}

// propsManagedID is the identity the IMDS URL selects (the parser allows
// at most one): nothing the file says is dropped.
func propsManagedID(s clientprops.SourceSpec) azidentity.ManagedIDKind {
	switch {
	case s.ClientID != "":
		return azidentity.ClientID(s.ClientID)
	case s.ResourceID != "":
		return azidentity.ResourceID(s.ResourceID)
	case s.ObjectID != "":
		return azidentity.ObjectID(s.ObjectID)
	}
	return nil
}
