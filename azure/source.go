package azure

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// CredentialOptions configures [NewFromCredential].
type CredentialOptions struct {
	// Name identifies the source in errors, logs and the cache's events.
	// Default "credential". No environment fallback.
	Name string
	// RequireV2 makes a v1 token an error (matching [ErrV1Token], with the
	// token's [Report] and the fix) instead of a logged warning. Default
	// false. No environment fallback.
	RequireV2 bool
	// Cache tunes the refreshing cache; its Logger receives this source's
	// warnings (such as a v1 token) too. Default: its defaults, named
	// "azure " + Name.
	Cache *oauthbearer.CacheOptions
}

// NewFromCredential returns a refreshing token source for any azidentity
// credential (or other azcore.TokenCredential), requesting tokens for
// audience (see [NormalizeAudience] for the accepted forms).
func NewFromCredential(cred azcore.TokenCredential, audience string, opts *CredentialOptions) (*oauthbearer.Cache, error) {
	var o CredentialOptions
	if opts != nil {
		o = *opts
	}
	if cred == nil {
		return nil, errors.New("azure: NewFromCredential: the credential is nil; pass an azidentity credential")
	}
	scope, err := NormalizeAudience(audience)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "credential"
	}
	cacheOpts := cacheopts.WithName(o.Cache, "azure "+o.Name)
	base := &credSource{scope: scope, requireV2: o.RequireV2, log: loggerOr(cacheOpts.Logger)}
	src := base.derive(hintContext{source: o.Name, scope: scope}, cred)
	return oauthbearer.NewCache(cacheopts.Kind(src, "azure credential"), cacheOpts) // Name is the caller's: the kind stays fixed
}

// credSource is a raw (uncached) token source over an azidentity
// credential. cred is called once per fetch, with the fetch's context, so
// a source can hand out a fresh credential (and so bypass MSAL's in-memory
// cache) each time, and read the files it needs inside the fetch.
type credSource struct {
	hint      hintContext
	scope     string
	requireV2 bool
	log       *slog.Logger
	cred      func(context.Context) (azcore.TokenCredential, error)
	// bypassCache is set for credentials whose MSAL cache outlives this
	// source (managed identity's is process-wide): every request carries
	// a claims challenge, the documented way to make MSAL skip its cache,
	// so that a refresh reaches the identity endpoint (see the package
	// doc). Not set for arbitrary credentials, some of which (Azure CLI)
	// refuse claims.
	bypassCache bool
}

// derive returns a source with s's settings over another credential.
func (s *credSource) derive(hint hintContext, cred azcore.TokenCredential) *credSource {
	return &credSource{
		hint:      hint,
		scope:     s.scope,
		requireV2: s.requireV2,
		log:       s.log,
		cred:      func(context.Context) (azcore.TokenCredential, error) { return cred, nil },
	}
}

// deriveFunc is derive with a credential made per fetch.
func (s *credSource) deriveFunc(hint hintContext, cred func(context.Context) (azcore.TokenCredential, error)) *credSource {
	d := s.derive(hint, nil)
	d.cred = cred
	return d
}

// freshTokenClaims is a claims challenge asking for a token issued no
// earlier than now. MSAL (v1.10.1, apps/managedidentity) skips its cache
// when any claims are given and sends none of them to the identity
// endpoint (IMDS, App Service, Arc, Cloud Shell, Service Fabric, Azure ML
// requests carry only the resource and the identity).
func freshTokenClaims(now time.Time) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(now.Unix(), 10) + `"}}}`
}

func (s *credSource) Token(ctx context.Context) (oauthbearer.Token, error) {
	cred, err := s.cred(ctx)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	tro := policy.TokenRequestOptions{Scopes: []string{s.scope}}
	if s.bypassCache {
		tro.Claims = freshTokenClaims(time.Now())
	}
	slot := &redirectSlot{}
	at, err := cred.GetToken(context.WithValue(ctx, redirectKey{}, slot), tro)
	if err != nil {
		if re := slot.get(); re != nil {
			err = re
		}
		if ie := slot.getRefused(); ie != nil {
			// Permanent: the endpoint setting is not https.
			return oauthbearer.Token{}, fmt.Errorf("azure: %s: %w", s.hint.source, ie)
		}
		if u := slot.getUnreachable(); u != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			// Permanent for this fetch (see unreachableError): returned
			// at once to every waiter while the cache backs off.
			return oauthbearer.Token{}, &Error{Source: s.hint.source, Description: "cannot connect: " + srvtext.Field(u.err.Error()),
				Hint: s.hint.unreachableHint(u), Err: scrubbed{err: errors.Join(u, err), sent: s.hint.sent}}
		}
		return oauthbearer.Token{}, classify(s.hint, err)
	}
	return s.token(ctx, at)
}

func (s *credSource) token(ctx context.Context, at azcore.AccessToken) (oauthbearer.Token, error) {
	tok := oauthbearer.Token{Value: at.Token, Expiry: at.ExpiresOn}
	rep, err := Diagnose(at.Token)
	if err != nil {
		if s.requireV2 {
			return oauthbearer.Token{}, fmt.Errorf("azure: %s: RequireV2 is set but %w", s.hint.source, err)
		}
		s.log.WarnContext(ctx, "azure: the access token is not a JWT; brokers validating JWTs will reject it", "source", s.hint.source, "error", err)
		return tok, nil
	}
	tok.Principal = rep.principal()
	if rep.IsV1() {
		if s.requireV2 {
			return oauthbearer.Token{}, fmt.Errorf("%w for %s (%s): %s; to fix it, %s", ErrV1Token, s.hint.source, s.scope, rep, v1Fix)
		}
		s.log.WarnContext(ctx, "azure: Microsoft Entra issued a v1 access token; Confluent Cloud and most OIDC validators reject it (JWT_PROCESSING_FAILED); to fix it, "+v1Fix,
			"source", s.hint.source, "scope", s.scope, "report", rep.String())
	}
	return tok, nil
}

// loggerOr is the source's logger: the cache's (l), through the same
// scrubbing handler the cache logs through (internal/fetchrec), or a
// discarding one.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return fetchrec.Logger(l)
}

// clientOptions returns azidentity's client options: retry, and the
// module's identity-provider HTTP policy as the transport, built on c
// (nil: the default client). The policy is idphttp's credential gate:
// every reply is read through a size limit, and redirects are never
// followed, because a token request carries a credential (the federated
// token as client_assertion, a client secret, App Service's identity
// header) that must not reach the Location. A caller's *http.Client gets
// the gate on a shallow copy.
//
// The statuses retried inside one fetch are retry.StatusCodes when the
// caller set them, else statusCodes (none unless a source names some):
// never azcore's default 429 and 5xx, which the cache retries, counted
// and paced by its backoff above the Retry-After.
//
// metadata lets the client use plain http to link-local addresses (IMDS
// at 169.254.169.254), for sources that include managed identity; every
// other source gets https or loopback only (idphttp's credential gate).
func clientOptions(c *http.Client, retry policy.RetryOptions, metadata bool, statusCodes ...int) azcore.ClientOptions {
	co := azcore.ClientOptions{Retry: retry}
	if co.Retry.StatusCodes == nil {
		co.Retry.StatusCodes = append([]int{}, statusCodes...) // non-nil: azcore keeps its own list for nil
	}
	if c == nil {
		c = defaultHTTPClient()
	}
	hc := idphttp.Client(c, "azure")
	if metadata {
		hc = idphttp.MetadataClient(c, "azure")
	}
	co.Transport = gateTransport{next: hc}
	return co
}

// gateTransport sends through the credential gate, and hands the gate's
// refusals (a redirect, an insecure endpoint) and an unreachable endpoint
// to the fetch whose request it was (redirectSlot).
type gateTransport struct{ next policy.Transporter }

func (l gateTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := idphttp.Do(l.next, "azure", req)
	var re *idphttp.RedirectError
	var ie *idphttp.InsecureEndpointError
	if errors.As(err, &re) {
		if slot, ok := req.Context().Value(redirectKey{}).(*redirectSlot); ok {
			slot.set(re)
		}
	} else if errors.As(err, &ie) {
		if slot, ok := req.Context().Value(redirectKey{}).(*redirectSlot); ok {
			slot.setRefused(ie)
		}
		return nil, ie
	}
	if u := asUnreachable(req, err); u != nil {
		if slot, ok := req.Context().Value(redirectKey{}).(*redirectSlot); ok {
			slot.setUnreachable(u)
		}
		return nil, u
	}
	return resp, err // the gate under l.next bounds the body
}

// redirectSlot carries a refused redirect from the transport back to the
// fetch whose request it was (through the request's context): azidentity
// and MSAL flatten transport errors into text, which errors.As cannot
// reach, and would call a permanent refusal a network failure to retry.
type redirectSlot struct {
	mu          sync.Mutex
	err         *idphttp.RedirectError
	unreachable *unreachableError
	refused     *idphttp.InsecureEndpointError
}

func (s *redirectSlot) setRefused(err *idphttp.InsecureEndpointError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused == nil {
		s.refused = err
	}
}

func (s *redirectSlot) getRefused() *idphttp.InsecureEndpointError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *redirectSlot) setUnreachable(err *unreachableError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unreachable == nil {
		s.unreachable = err
	}
}

func (s *redirectSlot) getUnreachable() *unreachableError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreachable
}

type redirectKey struct{}

func (s *redirectSlot) set(err *idphttp.RedirectError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *redirectSlot) get() *idphttp.RedirectError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// defaultHTTPClient mirrors azcore's default client (sdk/internal/transport,
// which other modules cannot import), without its HTTP/2 health pings and
// without keep-alives: a source fetches about once an hour, so an idle
// connection saves nothing, and without one no connection goroutine
// outlives the source's Close.
func defaultHTTPClient() *http.Client {
	tr := idphttp.Transport()
	tr.TLSClientConfig.Renegotiation = tls.RenegotiateFreelyAsClient
	return &http.Client{Transport: tr, Timeout: idphttp.DefaultTimeout}
}
