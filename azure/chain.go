package azure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// DefaultChainOptions configures [NewDefaultChain].
type DefaultChainOptions struct {
	// Audience is the audience of the tokens (their aud claim), in one of
	// the forms [NormalizeAudience] accepts. Required. No environment
	// fallback.
	Audience string
	// TenantID is used by the environment and workload identity steps.
	// Default: $AZURE_TENANT_ID.
	TenantID string
	// ClientID is used by the environment and workload identity steps.
	// Default: $AZURE_CLIENT_ID.
	ClientID string
	// ManagedIdentityID selects the managed identity step's identity, as
	// [ManagedIdentityOptions.ID]. Default nil: the user-assigned identity
	// with client ID ClientID ($AZURE_CLIENT_ID) when that is set, else
	// the system-assigned identity, as DefaultAzureCredential does.
	ManagedIdentityID azidentity.ManagedIDKind
	// AuthorityHost is Microsoft Entra's https URL for the environment and
	// workload identity steps, as [WorkloadIdentityOptions.AuthorityHost].
	AuthorityHost string
	// DisableInstanceDiscovery is [WorkloadIdentityOptions.DisableInstanceDiscovery]
	// for the environment and workload identity steps.
	DisableInstanceDiscovery bool
	// DisableAzureCLI leaves out the Azure CLI step. Default false.
	DisableAzureCLI bool
	// RequireV2 is [WorkloadIdentityOptions.RequireV2], for every step.
	RequireV2 bool
	// Getenv reads the environment. Default os.Getenv.
	Getenv func(string) string
	// HTTPClient sends every step's requests and the IMDS probe, handled
	// and defaulted as [WorkloadIdentityOptions.HTTPClient].
	HTTPClient *http.Client
	// Retry is azcore's retry policy for the requests of one fetch, as
	// [WorkloadIdentityOptions.Retry]; the managed identity step fills
	// its zero fields as [ManagedIdentityOptions.Retry] says.
	Retry policy.RetryOptions
	// Cache tunes the refreshing cache; its Logger receives which step
	// was chosen and this source's warnings too. Default: its defaults,
	// named "azure default chain".
	Cache *oauthbearer.CacheOptions
}

// NewDefaultChain returns a refreshing token source that tries, in order,
// like azidentity's DefaultAzureCredential:
//
//  1. environment: a service principal from AZURE_TENANT_ID,
//     AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or
//     AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_CERTIFICATE_PASSWORD);
//  2. workload identity ([NewWorkloadIdentity]'s settings);
//  3. managed identity (user-assigned by AZURE_CLIENT_ID when set), after a
//     one-second probe that IMDS answers at all;
//  4. the Azure CLI's logged-in account.
//
// Steps whose configuration is absent are skipped. The first step that
// produces a token is used from then on. A step that is configured but
// fails stops the chain. Errors list what every step tried said.
func NewDefaultChain(opts *DefaultChainOptions) (*oauthbearer.Cache, error) {
	var o DefaultChainOptions
	if opts != nil {
		o = *opts
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	scope, err := NormalizeAudience(o.Audience)
	if err != nil {
		return nil, err
	}
	env := func(v, name string) string {
		if v != "" {
			return v
		}
		return strings.TrimSpace(o.Getenv(name))
	}
	tenant, client := env(o.TenantID, EnvTenantID), env(o.ClientID, EnvClientID)
	host := env(o.AuthorityHost, EnvAuthorityHost)
	if host == "" {
		host = cloud.AzurePublic.ActiveDirectoryAuthorityHost
	}
	co := clientOptions(o.HTTPClient, o.Retry, true)
	cacheOpts := cacheopts.WithName(o.Cache, "azure default chain")
	log := loggerOr(cacheOpts.Logger)
	base := &credSource{scope: scope, requireV2: o.RequireV2, log: log}
	c := &chainSource{log: log}

	c.add(envStep(base, o, co, tenant, client, host))

	wlSrc, werr := newWorkloadSource(&WorkloadIdentityOptions{
		Audience: o.Audience, ClientID: client, TenantID: tenant, AuthorityHost: host,
		DisableInstanceDiscovery: o.DisableInstanceDiscovery, RequireV2: o.RequireV2,
		Getenv: o.Getenv, HTTPClient: o.HTTPClient, Retry: o.Retry,
	}, log)
	c.add(chainStep{name: "workload identity", src: wlSrc, unavailable: werr})

	miID := o.ManagedIdentityID
	if miID == nil && client != "" {
		miID = azidentity.ClientID(client)
	}
	miSrc, mierr := newManagedIdentitySource(base, miID, clientOptions(o.HTTPClient, o.Retry, true, imdsStatusCodes...))
	c.add(chainStep{name: "managed identity", src: miSrc, unavailable: mierr, probe: imdsProbe(co.Transport, o.Getenv)})

	if !o.DisableAzureCLI {
		cli, cerr := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenant})
		var s *credSource
		if cerr == nil {
			s = base.derive(hintContext{source: "Azure CLI", scope: scope, tenantID: tenant}, cli)
		}
		c.add(chainStep{name: "Azure CLI", src: s, unavailable: cerr})
	}
	return oauthbearer.NewCache(cacheopts.Kind(c, "azure default chain"), cacheOpts)
}

func envStep(base *credSource, o DefaultChainOptions, co azcore.ClientOptions, tenant, client, host string) chainStep {
	st := chainStep{name: "environment"}
	secret := o.Getenv("AZURE_CLIENT_SECRET")
	certPath := o.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	switch {
	case secret == "" && certPath == "":
		st.unavailable = errors.New("AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set")
		return st
	case tenant == "" || client == "":
		st.unavailable = fmt.Errorf("a client secret or certificate is set but %s or %s is not", EnvTenantID, EnvClientID)
		return st
	}
	co.Cloud.ActiveDirectoryAuthorityHost = host
	var err error
	if secret != "" {
		// Built here only to check the settings; see below.
		_, err = azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery})
	} else {
		// Checked here without reading; read, parsed and used inside each
		// fetch, under its context and through a size limit.
		if err := checkCertFile(certPath); err != nil {
			st.broken = err
			return st
		}
		password := []byte(o.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
		certOpts := &azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery}
		hint := hintContext{source: "environment service principal", scope: base.scope, clientID: client, tenantID: tenant}
		st.src = base.deriveFunc(hint, func(ctx context.Context) (azcore.TokenCredential, error) {
			data, err := boundedfile.Read(ctx, certPath, certLimit)
			if err != nil {
				return nil, certFileErr(certPath, err)
			}
			certs, key, err := azidentity.ParseCertificates(data, password)
			if err != nil {
				return nil, fmt.Errorf("azure: environment: AZURE_CLIENT_CERTIFICATE_PATH %q: %w", certPath, err)
			}
			return azidentity.NewClientCertificateCredential(tenant, client, certs, key, certOpts)
		})
		return st
	}
	if err != nil {
		// Configured but broken: fail the chain here rather than silently
		// falling through to another identity.
		st.broken = fmt.Errorf("azure: environment: %w", err)
		return st
	}
	// A new credential per fetch, as for the certificate: its MSAL cache
	// starts empty, so a refresh reaches Entra ID (a reused credential
	// returns its cached token until five minutes before expiry).
	secretOpts := &azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery}
	st.src = base.deriveFunc(hintContext{source: "environment service principal", scope: base.scope, clientID: client, tenantID: tenant, sent: []string{secret}},
		func(context.Context) (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(tenant, client, secret, secretOpts)
		})
	return st
}

// certLimit bounds a client certificate file: a PEM or PKCS#12 bundle with
// its chain is a few kilobytes.
const certLimit = 1 << 20

// certFileErr describes a certificate file that cannot be used. It names
// the file and the setting, never the content.
func certFileErr(path string, err error) error {
	return fmt.Errorf("azure: environment: cannot read the client certificate file %q (AZURE_CLIENT_CERTIFICATE_PATH): %w; "+
		"point it at a PEM or PKCS#12 file of at most 1 MiB; %s", path, pathErr(err), troubleshooting.See("azure-certificate-file"))
}

// checkCertFile fails on a certificate file that is missing, not a regular
// file or too large, without opening it.
func checkCertFile(path string) error {
	size, err := boundedfile.Check(path)
	if err == nil && size > certLimit {
		err = fmt.Errorf("%w: %d bytes, more than the limit of %d bytes", boundedfile.ErrTooLarge, size, certLimit)
	}
	if err != nil {
		return certFileErr(path, err)
	}
	return nil
}

// imdsProbe checks, once, that something answers at IMDS's address, the
// way DefaultAzureCredential does, so that machines without IMDS fall
// through in a second instead of waiting out IMDS's retries. It is skipped
// when another managed-identity endpoint is configured.
func imdsProbe(tr policy.Transporter, getenv func(string) string) func(context.Context) error {
	if getenv("IDENTITY_ENDPOINT") != "" || getenv("MSI_ENDPOINT") != "" {
		return nil
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		// No Metadata header: IMDS answers 400 at once, without issuing a
		// token; any answer proves it is there.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token", nil)
		if err != nil {
			return err
		}
		resp, err := tr.Do(req)
		if err != nil {
			return fmt.Errorf("IMDS at 169.254.169.254 did not answer within 1s; not an Azure VM, scale set or node")
		}
		resp.Body.Close()
		return nil
	}
}

type chainStep struct {
	name        string
	src         *credSource
	unavailable error                           // configuration absent: skip
	broken      error                           // configured but unusable: stop
	probe       func(ctx context.Context) error // optional availability check
}

// chainSource is the raw source behind NewDefaultChain.
type chainSource struct {
	log   *slog.Logger
	steps []chainStep

	mu     sync.Mutex
	chosen *chainStep
}

// Invalidate passes a rejected token to the step that issued it, so a
// caching credential behind it fetches afresh.
func (c *chainSource) Invalidate(rejected oauthbearer.Token) {
	c.mu.Lock()
	chosen := c.chosen
	c.mu.Unlock()
	if chosen != nil {
		oauthbearer.Invalidate(chosen.src, rejected)
	}
}

func (c *chainSource) add(s chainStep) {
	if s.src == nil && s.unavailable == nil && s.broken == nil {
		s.unavailable = errors.New("not configured")
	}
	c.steps = append(c.steps, s)
}

func (c *chainSource) Token(ctx context.Context) (oauthbearer.Token, error) {
	c.mu.Lock()
	chosen := c.chosen
	c.mu.Unlock()
	if chosen != nil {
		return chosen.src.Token(ctx)
	}
	var said []string
	for i := range c.steps {
		st := &c.steps[i]
		if st.broken != nil {
			said = append(said, st.name+": "+st.broken.Error())
			return oauthbearer.Token{}, chainError(said, st.broken)
		}
		if st.unavailable != nil {
			said = append(said, st.name+": "+st.unavailable.Error())
			continue
		}
		if st.probe != nil {
			if err := st.probe(ctx); err != nil {
				said = append(said, st.name+": "+err.Error())
				continue
			}
		}
		tok, err := st.src.Token(ctx)
		if err == nil {
			c.mu.Lock()
			c.chosen = st
			c.mu.Unlock()
			c.log.InfoContext(ctx, "azure: default chain chose a credential", "step", st.name, "skipped", strings.Join(said, "; "))
			return tok, nil
		}
		said = append(said, st.name+": "+err.Error())
		if !isUnavailable(err) {
			return oauthbearer.Token{}, chainError(said, err)
		}
	}
	return oauthbearer.Token{}, chainError(said, nil)
}

// isUnavailable reports azidentity's "credential unavailable" errors, which
// chains skip; their type is unexported, but they are non-retriable errors
// that are not AuthenticationFailedError.
func isUnavailable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		var afe *azidentity.AuthenticationFailedError
		var nr interface{ NonRetriable() }
		return !errors.As(e.Err, &afe) && errors.As(e.Err, &nr)
	}
	return false
}

func chainError(said []string, last error) error {
	msg := "azure: default chain: no credential produced a token: " + strings.Join(said, "; ")
	if last == nil {
		return errors.New(msg + "; configure one of them (for AKS, enable workload identity on the pod)")
	}
	var t *oauthbearer.TransientError
	if errors.As(last, &t) {
		return oauthbearer.Transient(&wrapped{msg: msg, err: last}, t.RetryAfter)
	}
	return &wrapped{msg: msg, err: last}
}

// wrapped carries a message that already quotes err, and unwraps to it.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
