package oauthbearertest

import (
	"net/http"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/emu"
)

// GCEOptions configures a [GCE]. The zero value is valid: a VM with one
// attached service account holding the cloud-platform scope.
type GCEOptions struct {
	// Signer signs the ID tokens, standing in for Google's keys; their iss
	// is its IssuerURL. Default: an Issuer owned and closed by the
	// emulator.
	Signer *Issuer
	// Email is the attached service account's email. Default
	// "kafka-client@emu-project.iam.gserviceaccount.com".
	Email string
	// UniqueID is the service account's numeric ID, the ID tokens' sub.
	// Default: random.
	UniqueID string
	// Scopes are the access scopes granted to the VM; requests for other
	// scopes get 403. Default: https://www.googleapis.com/auth/cloud-platform.
	Scopes []string
	// TokenLifetime is the lifetime of access and ID tokens. Default 1h.
	TokenLifetime time.Duration
	// Audiences, if not empty, are the only audiences ID tokens are
	// signed for; others get 400. Default: any.
	Audiences []string
	// NoServiceAccount plays a VM without an attached service account:
	// every service-accounts request gets 404.
	NoServiceAccount bool
}

// GCE emulates the Google Compute Engine / GKE / Cloud Run metadata
// server's service-account endpoints (GET
// /computeMetadata/v1/instance/service-accounts/default/{token,identity,email}):
// OAuth access tokens, RS256 ID tokens for any audience (iss: the
// Signer's IssuerURL, sub: UniqueID, email with format=full), and 403 for
// a request without "Metadata-Flavor: Google". It stands in for what the
// gcp module's sources call on Google Cloud: set GCE_METADATA_HOST to
// [GCE.Host], or give them [GCE.Client] as their HTTPClient.
//
// A GCE can be a [BrokerOptions] Issuer (its ID tokens verify against
// its JWKSURL) and a [BrokerOptions] GoogleAccessTokens checker (the
// broker then accepts Google Managed Kafka's wrapped access tokens that
// this GCE issued).
type GCE struct {
	*Server
	e *emu.GCE
}

// NewGCE starts a GCE on 127.0.0.1; the caller must Close it. It panics if
// it cannot listen. opts may be nil.
func NewGCE(opts *GCEOptions) *GCE {
	var o emu.GCEOptions
	if opts != nil {
		o = emu.GCEOptions{Signer: signer(opts.Signer), Email: opts.Email, UniqueID: opts.UniqueID, Scopes: opts.Scopes,
			TokenLifetime: opts.TokenLifetime, Audiences: opts.Audiences, NoServiceAccount: opts.NoServiceAccount}
	}
	e := must(emu.StartGCE(&o))
	return &GCE{Server: newServer(e.Server, e.Close), e: e}
}

// Host is the emulator's host:port: the value for GCE_METADATA_HOST.
func (g *GCE) Host() string { return g.e.Host() }

// Client returns an HTTP client that sends requests for the metadata
// server's addresses (169.254.169.254, metadata.google.internal) to the
// emulator.
func (g *GCE) Client() *http.Client { return g.e.Client() }

// Email is the attached service account's email: the principal Google
// Managed Kafka sees.
func (g *GCE) Email() string { return g.e.Email() }

// UniqueID is the service account's numeric ID: the ID tokens' sub.
func (g *GCE) UniqueID() string { return g.e.UniqueID() }

// IssuerURL is the ID tokens' iss.
func (g *GCE) IssuerURL() string { return g.e.Signer().IssuerURL() }

// JWKSURL is where the ID tokens' keys are served.
func (g *GCE) JWKSURL() string { return g.e.Signer().JWKSURL() }

// AccessToken reports the service account and expiry of an access token
// this GCE issued; ok is false for any other string. It is what
// [BrokerOptions] GoogleAccessTokens calls.
func (g *GCE) AccessToken(token string) (email string, expiry time.Time, ok bool) {
	info, ok := g.e.AccessToken(token)
	return info.Email, info.Expiry, ok
}
