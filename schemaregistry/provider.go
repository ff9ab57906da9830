package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// HeaderProviderOptions configures [NewHeaderProvider]. The zero value
// (or nil) is valid. Fields have no environment fallback.
type HeaderProviderOptions struct {
	// LogicalCluster is returned by GetLogicalCluster (lsrc-...).
	// Default: none.
	LogicalCluster string
	// IdentityPoolID is returned by GetIdentityPoolID (pool-..., or
	// several separated by commas). Default: none.
	IdentityPoolID string
	// FetchTimeout bounds each GetAuthenticationHeader call, which has no
	// context. Default 30s.
	FetchTimeout time.Duration
}

// HeaderProvider satisfies confluent-kafka-go's schemaregistry
// AuthenticationHeaderProvider interface: set it as
// Config.AuthenticationHeaderProvider with BearerAuthCredentialsSource
// "CUSTOM". It does not import confluent-kafka-go (which needs cgo for
// its Kafka client).
//
// confluent-kafka-go does not retry a 401 with a new header, so also set
// Config.HTTPClient to [NewHTTPClient] over the same source to get
// refresh-on-401.
type HeaderProvider struct {
	src        oauthbearer.TokenSource
	lsrc, pool string
	timeout    time.Duration
}

// NewHeaderProvider returns a HeaderProvider over src (which should be
// cached, as every source of this module is).
func NewHeaderProvider(src oauthbearer.TokenSource, opts *HeaderProviderOptions) (*HeaderProvider, error) {
	if src == nil {
		return nil, errors.New("schemaregistry: NewHeaderProvider: the token source is nil; pass a source such as one from the azure package")
	}
	var o HeaderProviderOptions
	if opts != nil {
		o = *opts
	}
	if err := checkIDs(o.LogicalCluster, o.IdentityPoolID, "HeaderProviderOptions"); err != nil {
		return nil, err
	}
	var err error
	if o.FetchTimeout, err = cacheopts.FetchTimeout("schemaregistry.HeaderProviderOptions", o.FetchTimeout); err != nil {
		return nil, err
	}
	return &HeaderProvider{src: src, lsrc: o.LogicalCluster, pool: o.IdentityPoolID, timeout: o.FetchTimeout}, nil
}

// GetAuthenticationHeader returns "Bearer <token>".
func (p *HeaderProvider) GetAuthenticationHeader() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	tok, err := p.src.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("schemaregistry: getting a bearer token: %w", err)
	}
	if tok.Value == "" {
		return "", errors.New("schemaregistry: the token source returned an empty token")
	}
	return "Bearer " + tok.Value, nil
}

// GetIdentityPoolID returns the configured identity pool ID(s), or "".
func (p *HeaderProvider) GetIdentityPoolID() (string, error) { return p.pool, nil }

// GetLogicalCluster returns the configured logical cluster, or "".
func (p *HeaderProvider) GetLogicalCluster() (string, error) { return p.lsrc, nil }

// Format prints the type and the cluster only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (p *HeaderProvider) Format(f fmt.State, _ rune) {
	if p == nil {
		_, _ = fmt.Fprint(f, "schemaregistry.HeaderProvider(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "schemaregistry.HeaderProvider(%q)", p.lsrc)
}

// MarshalText encodes what fmt prints, so YAML, XML and JSON show no
// token or credential and do not copy the struct by reflection.
func (p *HeaderProvider) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(p)), nil }
