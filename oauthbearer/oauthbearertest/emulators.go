package oauthbearertest

import (
	"crypto"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/emu"
)

func signer(i *Issuer) *emu.Issuer {
	if i == nil {
		return nil
	}
	return i.e
}

// ManagedIdentity is one managed identity that an [IMDS] serves.
type ManagedIdentity struct {
	// ClientID is the identity's application (client) ID; IMDS selects it
	// with the client_id query parameter. Default: random.
	ClientID string
	// ObjectID is the service principal's object ID (selected with
	// object_id): the token's oid and sub. Default: random.
	ObjectID string
	// ResourceID is the ARM resource ID of a user-assigned identity
	// (selected with msi_res_id).
	ResourceID string
}

// IMDSOptions configures an [IMDS]. The zero value is valid: one
// system-assigned identity with random IDs.
type IMDSOptions struct {
	// Signer signs the access tokens, standing in for Entra ID's keys.
	// Default: an Issuer owned and closed by the emulator.
	Signer *Issuer
	// TenantID is the tid claim. Default
	// "00000000-0000-4000-8000-0000000000aa".
	TenantID string
	// DisableSystemAssigned removes the system-assigned identity.
	DisableSystemAssigned bool
	// SystemAssigned gives the system-assigned identity's IDs.
	SystemAssigned ManagedIdentity
	// UserAssigned lists the user-assigned identities of the machine.
	UserAssigned []ManagedIdentity
	// TokenLifetime is the lifetime of issued tokens. Default 24h.
	TokenLifetime time.Duration
	// OmitExpiry leaves the exp claim out of the JWT.
	OmitExpiry bool
	// V1Tokens issues Entra v1 access tokens (ver "1.0", appid claim), as
	// an App Registration without accessTokenAcceptedVersion 2 gets.
	V1Tokens bool
	// AppIDs maps an API's App ID URI ("api://kafka-orders") to its
	// application (client) ID, a GUID: a v2 token requested for the URI
	// carries the GUID in "aud", as in Azure; a v1 token carries the
	// resource as requested. An unlisted URI gets a GUID derived from it
	// (see [IMDS.AppID]).
	AppIDs map[string]string
}

// IMDS emulates the Azure Instance Metadata Service's managed-identity
// token endpoint (GET /metadata/identity/oauth2/token with the Metadata
// header), with IMDS's error replies. It stands in for what
// [github.com/streamidentity/kafka-workload-identity/azure.NewManagedIdentity]
// calls on a VM or an AKS node.
type IMDS struct {
	*Server
	e *emu.IMDS
}

// NewIMDS starts an IMDS on 127.0.0.1; the caller must Close it. It panics
// if the options are invalid or it cannot listen. opts may be nil.
func NewIMDS(opts *IMDSOptions) *IMDS {
	var o emu.IMDSOptions
	if opts != nil {
		o = emu.IMDSOptions{Signer: signer(opts.Signer), TenantID: opts.TenantID, DisableSystemAssigned: opts.DisableSystemAssigned,
			SystemAssigned: emu.ManagedIdentity(opts.SystemAssigned), TokenLifetime: opts.TokenLifetime, OmitExpiry: opts.OmitExpiry, V1Tokens: opts.V1Tokens,
			AppIDs: opts.AppIDs}
		for _, id := range opts.UserAssigned {
			o.UserAssigned = append(o.UserAssigned, emu.ManagedIdentity(id))
		}
	}
	e := must(emu.StartIMDS(&o))
	return &IMDS{Server: newServer(e.Server, e.Close), e: e}
}

// Client returns an HTTP client that sends requests for IMDS's fixed
// address (169.254.169.254) to the emulator: give it to the managed
// identity source as ManagedIdentityOptions.HTTPClient.
func (m *IMDS) Client() *http.Client { return m.e.Client() }

// AppID is the application (client) ID that a v2 token requested for
// resource carries in "aud" (configure the broker's expected audience with
// it): resource itself when it is a GUID, else its [IMDSOptions.AppIDs]
// entry, else a GUID derived from it.
func (m *IMDS) AppID(resource string) string { return m.e.AppID(resource) }

// FederatedCredential is a federated identity credential of an
// [EntraApp]: which external tokens the app accepts as client assertions.
type FederatedCredential struct {
	// Issuer is the assertion's required iss (an [Issuer]'s IssuerURL).
	Issuer string
	// JWKSURL is where the issuer's keys are. Default: Issuer +
	// "/.well-known/jwks.json".
	JWKSURL string
	// Subject is the required sub, such as
	// "system:serviceaccount:<namespace>:<name>".
	Subject string
	// Audience is the required aud. Default "api://AzureADTokenExchange".
	Audience string
}

// EntraApp is an application registered in an [Entra].
type EntraApp struct {
	// TenantID is the app's directory (a GUID); required.
	TenantID string
	// ClientID is the application (client) ID; required.
	ClientID string
	// ObjectID is the service principal's object ID. Default: random.
	ObjectID string
	// Federated lists the app's federated identity credentials.
	Federated []FederatedCredential
}

// EntraOptions configures an [Entra].
type EntraOptions struct {
	// Signer signs issued access tokens. Default: an Issuer owned and
	// closed by the emulator.
	Signer *Issuer
	// Apps are the registered applications; their tenants are the only
	// tenants that exist.
	Apps []EntraApp
	// TokenLifetime is the lifetime of issued tokens. Default 1h.
	TokenLifetime time.Duration
	// OmitExpiry leaves the exp claim out of issued JWTs.
	OmitExpiry bool
	// V1Tokens issues Entra v1 access tokens.
	V1Tokens bool
	// AppIDs maps an API's App ID URI ("api://kafka-orders") to its
	// application (client) ID, a GUID: a v2 token requested with scope
	// "<App ID URI>/.default" carries the GUID in "aud", as in Azure; a v1
	// token carries the resource as requested. An unlisted URI gets a GUID
	// derived from it (see [Entra.AppID]).
	AppIDs map[string]string
}

// Entra emulates Microsoft Entra ID's v2.0 token endpoint
// (/<tenant>/oauth2/v2.0/token, client credentials with a client assertion)
// and its discovery documents, over TLS. It stands in for what
// azure.NewWorkloadIdentity calls on AKS: point the Azure SDK's authority
// host at URL and its transport at [Server.Client].
type Entra struct {
	*Server
	e *emu.Entra
}

// NewEntra starts an Entra on 127.0.0.1; the caller must Close it. It
// panics if the options are invalid or it cannot listen.
func NewEntra(opts *EntraOptions) *Entra {
	var o emu.EntraOptions
	if opts != nil {
		o = emu.EntraOptions{Signer: signer(opts.Signer), TokenLifetime: opts.TokenLifetime, OmitExpiry: opts.OmitExpiry, V1Tokens: opts.V1Tokens,
			AppIDs: opts.AppIDs}
		for _, a := range opts.Apps {
			ea := emu.EntraApp{TenantID: a.TenantID, ClientID: a.ClientID, ObjectID: a.ObjectID}
			for _, f := range a.Federated {
				ea.Federated = append(ea.Federated, emu.FederatedCredential(f))
			}
			o.Apps = append(o.Apps, ea)
		}
	}
	e := must(emu.StartEntra(&o))
	return &Entra{Server: newServer(e.Server, e.Close), e: e}
}

// IssuerURL is the "iss" of tenant's v2 tokens and the issuer its
// discovery document names: URL + "/<tenant>/v2.0", the shape of
// https://login.microsoftonline.com/<tenant>/v2.0. Configure the broker's
// expected issuer with it.
func (e *Entra) IssuerURL(tenant string) string { return e.e.IssuerURL(tenant) }

// JWKSURL is tenant's key set on the emulator (TLS, trust it with
// [Server.Client]), the discovery document's jwks_uri.
func (e *Entra) JWKSURL(tenant string) string { return e.e.JWKSURL(tenant) }

// AppID is the application (client) ID that a v2 token for resource (an
// App ID URI or a GUID) in tenant carries in "aud": configure the broker's
// expected audience with it.
func (e *Entra) AppID(tenant, resource string) string { return e.e.AppID(tenant, resource) }

// STSOptions configures an [STS]. The zero value is valid: a regional
// endpoint in us-west-2 that accepts any well-formed SigV4 signature for
// the role arn:aws:iam::123456789012:role/kafka-workload.
type STSOptions struct {
	// Region is the region whose endpoint the emulator plays; a request
	// signed for another region is refused. Default "us-west-2".
	Region string
	// Global plays the global endpoint sts.amazonaws.com, which refuses
	// GetWebIdentityToken.
	Global bool
	// AccessKeyID, if set, is the only access key accepted.
	AccessKeyID string
	// SecretAccessKey, if set, makes the emulator verify the SigV4
	// signature; without it only the signature's structure is checked.
	SecretAccessKey string
	// RoleARN is the caller's role, the token's "sub". Default
	// "arn:aws:iam::123456789012:role/kafka-workload".
	RoleARN string
	// FederationDisabled plays an account without outbound web identity
	// federation enabled: every call is refused.
	FederationDisabled bool
	// AllowedAudiences, when not empty, plays an IAM policy that allows
	// only these audiences.
	AllowedAudiences []string
	// MaxDurationSeconds, when not zero, plays a policy that caps
	// DurationSeconds.
	MaxDurationSeconds int
	// SessionExpiry, when set, is when the caller's credentials expire; a
	// token that would outlive them is refused.
	SessionExpiry time.Time
}

// STS emulates AWS STS's GetWebIdentityToken (IAM outbound identity
// federation) over the awsquery protocol, with SigV4 authentication and
// AWS's XML errors. It stands in for what aws.NewWebIdentity calls: point
// the AWS SDK's STS client at URL (BaseEndpoint). The tokens it issues can
// be verified against [STS.JWKSURL], so an STS can be a [BrokerOptions]
// Issuer.
type STS struct {
	*Server
	e *emu.STS
}

// NewSTS starts an STS on 127.0.0.1; the caller must Close it. It panics if
// the options are invalid or it cannot listen. opts may be nil.
func NewSTS(opts *STSOptions) *STS {
	var o emu.STSOptions
	if opts != nil {
		o = emu.STSOptions(*opts)
	}
	e := must(emu.StartSTS(&o))
	return &STS{Server: newServer(e.Server, e.Close), e: e}
}

// IssuerURL is the "iss" of the tokens the STS issues.
func (s *STS) IssuerURL() string { return s.e.IssuerURL() }

// JWKSURL is where the keys of the tokens the STS issues are served.
func (s *STS) JWKSURL() string { return s.e.JWKSURL() }

// ConfluentIdentityProvider is an OIDC identity provider registered in a
// [ConfluentSTS], with its identity pools.
type ConfluentIdentityProvider struct {
	// Issuer signs the subject tokens; required.
	Issuer *Issuer
	// Audience, if set, must be among the subject token's "aud".
	Audience string
	// Pools are the identity pool IDs (pool-...); at least one.
	Pools []string
	// Filter, if set, is the pools' identity filter: a subject token whose
	// claims it rejects gets 401.
	Filter func(claims map[string]any) bool
}

// ConfluentSTSOptions configures a [ConfluentSTS].
type ConfluentSTSOptions struct {
	// Providers are the registered identity providers; at least one.
	Providers []ConfluentIdentityProvider
	// Signer signs the Confluent tokens the STS returns. Default: an
	// Issuer owned by the STS whose "iss" is "Confluent".
	Signer *Issuer
	// TTL is the lifetime of issued tokens when the request names none.
	// Default 900s.
	TTL time.Duration
	// TLS serves HTTPS (trust it with [Server.Client]).
	TLS bool
}

// ConfluentSTS emulates Confluent Cloud's token exchange (RFC 8693 at
// /sts/v1/oauth2/token). It stands in for what confluent.NewSTS calls:
// set the source's endpoint to [ConfluentSTS.TokenURL].
type ConfluentSTS struct {
	*Server
	e *emu.ConfluentSTS
}

// NewConfluentSTS starts a ConfluentSTS on 127.0.0.1; the caller must Close
// it. It panics if the options are invalid or it cannot listen.
func NewConfluentSTS(opts *ConfluentSTSOptions) *ConfluentSTS {
	var o emu.ConfluentSTSOptions
	if opts != nil {
		o = emu.ConfluentSTSOptions{Signer: signer(opts.Signer), TTL: opts.TTL, TLS: opts.TLS}
		for _, p := range opts.Providers {
			o.Providers = append(o.Providers, emu.ConfluentIdentityProvider{Issuer: signer(p.Issuer), Audience: p.Audience, Pools: p.Pools, Filter: p.Filter})
		}
	}
	e := must(emu.StartConfluentSTS(&o))
	return &ConfluentSTS{Server: newServer(e.Server, e.Close), e: e}
}

// TokenURL is the token exchange endpoint.
func (s *ConfluentSTS) TokenURL() string { return s.e.TokenURL() }

// OAuthClient is a client registered in an [OAuthServer].
type OAuthClient struct {
	// Secret authenticates the client with client_secret_basic or
	// client_secret_post.
	Secret string
	// PublicKey (*rsa.PublicKey or *ecdsa.PublicKey) verifies the client's
	// private_key_jwt assertions (RFC 7523).
	PublicKey crypto.PublicKey
	// Scopes lists the scopes the client may request; empty allows any.
	Scopes []string
	// CertSubject authenticates the client with RFC 8705
	// tls_client_auth: the TLS client certificate, verified against
	// OAuthServerOptions.ClientCAs, must have this subject ("CN=orders");
	// its tokens carry cnf.x5t#S256. A client secret sent beside the
	// certificate (Kafka's handler always sends one) is ignored.
	CertSubject string
	// Subjects lists the "sub" values that RFC 7523 jwt-bearer assertions
	// issued by this client (iss = the client ID, signed with PublicKey)
	// may name; empty allows only the client ID itself.
	Subjects []string
}

// OAuthServerOptions configures an [OAuthServer].
type OAuthServerOptions struct {
	// Issuer signs the access tokens; required.
	Issuer *Issuer
	// Clients maps client IDs to their credentials; at least one.
	Clients map[string]OAuthClient
	// Audience is the "aud" of issued tokens. Default "kafka".
	Audience string
	// TTL is the lifetime of issued tokens. Default 1h.
	TTL time.Duration
	// TLS serves HTTPS (trust it with [Server.Client], or write
	// [Server.CertificatePEM] to a CA file).
	TLS bool
	// ClientCAs verify client certificates (RFC 8705 mutual TLS); set,
	// the server speaks TLS.
	ClientCAs *x509.CertPool
}

// OAuthServer is a generic OAuth 2.0 token endpoint for the client
// credentials grant (client_secret_basic, client_secret_post and
// private_key_jwt) and the RFC 7523 jwt-bearer grant (assertions signed
// with a client's PublicKey, iss = the client ID, aud = [OAuthServer.TokenURL],
// exp required, a jti used once). It stands in for the identity provider that the
// library's OAuth client-credentials source calls: set the source's token
// endpoint to [OAuthServer.TokenURL].
type OAuthServer struct {
	*Server
	e *emu.ClientCredentialsServer
}

// NewOAuthServer starts an OAuthServer on 127.0.0.1; the caller must Close
// it. It panics if the options are invalid or it cannot listen.
func NewOAuthServer(opts *OAuthServerOptions) *OAuthServer {
	var o emu.ClientCredentialsServerOptions
	if opts != nil {
		o = emu.ClientCredentialsServerOptions{Issuer: signer(opts.Issuer), Audience: opts.Audience, TTL: opts.TTL, TLS: opts.TLS, ClientCAs: opts.ClientCAs}
		if opts.Clients != nil {
			o.Clients = map[string]emu.OAuthClient{}
			for id, c := range opts.Clients {
				o.Clients[id] = emu.OAuthClient(c)
			}
		}
	}
	e := must(emu.StartClientCredentialsServer(&o))
	return &OAuthServer{Server: newServer(e.Server, e.Close), e: e}
}

// TokenURL is the token endpoint.
func (s *OAuthServer) TokenURL() string { return s.e.TokenURL() }

// SchemaRegistryOptions configures a [SchemaRegistry].
type SchemaRegistryOptions struct {
	// Issuer signs the bearer tokens the registry accepts; required.
	Issuer *Issuer
	// ExpectedIssuer is the required "iss". Default: Issuer's IssuerURL.
	ExpectedIssuer string
	// Audience, if set, must be among the token's "aud".
	Audience string
	// LogicalCluster, if set, is the registry's logical cluster ID
	// (lsrc-...), required in the target-sr-cluster header.
	LogicalCluster string
	// IdentityPoolID, if set, must be listed in the
	// Confluent-Identity-Pool-Id header.
	IdentityPoolID string
	// TLS serves HTTPS (trust it with [Server.Client]).
	TLS bool
}

// SchemaRegistry is a Confluent Cloud style Schema Registry: an in-memory
// registry (list subjects, register a schema, read schemas by ID or by
// subject and version) behind OAuth bearer authentication, answering 401
// with Confluent's error body. It stands in for the registry that the
// schemaregistry package's transport talks to: use URL as the registry URL.
type SchemaRegistry struct {
	*Server
	e *emu.SchemaRegistry
}

// NewSchemaRegistry starts a SchemaRegistry on 127.0.0.1; the caller must
// Close it. It panics if the options are invalid or it cannot listen.
func NewSchemaRegistry(opts *SchemaRegistryOptions) *SchemaRegistry {
	var o emu.SchemaRegistryOptions
	if opts != nil {
		o = emu.SchemaRegistryOptions{Issuer: signer(opts.Issuer), ExpectedIssuer: opts.ExpectedIssuer, Audience: opts.Audience,
			LogicalCluster: opts.LogicalCluster, IdentityPoolID: opts.IdentityPoolID, TLS: opts.TLS}
	}
	e := must(emu.StartSchemaRegistry(&o))
	return &SchemaRegistry{Server: newServer(e.Server, e.Close), e: e}
}
