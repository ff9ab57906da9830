package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/streamidentity/kafka-workload-identity/internal/audience"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Signing algorithms STS can sign web identity tokens with.
const (
	rs256 = "RS256"
	es384 = "ES384"
)

// Limits of GetWebIdentityToken's DurationSeconds.
const (
	minDuration     = time.Minute
	maxDuration     = time.Hour
	defaultDuration = 5 * time.Minute
)

// WebIdentityOptions configures [NewWebIdentity]. Only Audience is
// required; a region must also be known, from Region, Config or the
// environment.
type WebIdentityOptions struct {
	// Audience becomes the token's "aud" claim: what the Kafka cluster
	// expects (its expected.audience, often its host name). Required: 1
	// to 10 values of 1 to 1000 characters, as STS's Audience parameter
	// (a list: each value is one audience of the same token). The IAM
	// policy that allows sts:GetWebIdentityToken should restrict them
	// with the sts:IdentityTokenAudience condition. No environment
	// fallback.
	Audience []string

	// SigningAlgorithm is "RS256" (default: RSASSA-PKCS1-v1_5 with
	// SHA-256, which every Kafka broker and OIDC validator supports) or
	// "ES384" (ECDSA with P-384 and SHA-384). No environment fallback.
	SigningAlgorithm string

	// Lifetime is the token lifetime to request (STS's DurationSeconds),
	// in whole seconds from
	// 1 minute to 1 hour. Default 5 minutes, as STS's own default. It is
	// shortened when the AWS credentials expire sooner, because STS does
	// not issue a token that outlives the session that asked for it. No
	// environment fallback.
	Lifetime time.Duration

	// Tags are added to the token as custom claims (request tags) for the
	// receiving service's authorization. Up to 50; keys of 1 to 128 and
	// values of up to 256 letters, digits, spaces and _.:/=+-@. Default:
	// none. No environment fallback.
	Tags map[string]string

	// Region is the AWS region whose STS endpoint is called.
	// GetWebIdentityToken is served only by regional endpoints, so a
	// region is required. Default: Config.Region, which the default
	// configuration reads from AWS_REGION, AWS_DEFAULT_REGION or the
	// shared config profile.
	Region string

	// Endpoint overrides the STS endpoint URL, such as a VPC endpoint or
	// a local emulator. Default: the regional endpoint
	// https://sts.<region>.amazonaws.com, or AWS_ENDPOINT_URL_STS /
	// AWS_ENDPOINT_URL when set. Whatever its source, it must be https,
	// or http to a loopback host (local emulators). The global endpoint
	// https://sts.amazonaws.com is refused.
	Endpoint string

	// HTTPClient sends the STS requests, on a shallow copy that never
	// follows redirects, with replies read through a 1 MiB limit.
	// Default: Config's HTTPClient, else the SDK's default client without
	// keep-alives.
	HTTPClient *http.Client

	// Config is the AWS SDK configuration: credentials, HTTP client,
	// region. It is copied, not modified. Its HTTPClient (an *http.Client
	// or the SDK's BuildableClient) is used on a copy that never follows
	// redirects; other HTTPClient implementations must not follow them
	// either. The SDK's default client is used without keep-alives. Default:
	// config.LoadDefaultConfig, the SDK's standard chain (environment,
	// shared files, EKS web identity or Pod Identity, ECS, EC2 instance
	// role).
	Config *sdkaws.Config

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "aws sts web identity".
	// Its Clock also drives the credential-expiry arithmetic.
	Cache *oauthbearer.CacheOptions
}

var (
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

type webIdentity struct {
	client    *sts.Client
	creds     sdkaws.CredentialsProvider
	now       func() time.Time
	endpoint  string
	audiences []string
	alg       string
	duration  int32
	tags      []types.Tag
}

// NewWebIdentity returns a cached source of JWTs from AWS STS
// GetWebIdentityToken (IAM outbound identity federation), signed by AWS
// for the calling IAM principal. The token's Principal is its "sub"
// claim, the principal's ARN (for a role, arn:aws:iam::<account>:role/<name>).
//
// ctx bounds loading the default configuration only; it is not kept.
//
// The SDK's own retries are disabled: a throttled or failed call returns
// at once as an [oauthbearer.TransientError] carrying the server's
// Retry-After, and the [oauthbearer.Cache] retries with its backoff while
// the current token keeps being served, so retries are counted and paced
// in one place.
func NewWebIdentity(ctx context.Context, opts *WebIdentityOptions) (*oauthbearer.Cache, error) {
	var o WebIdentityOptions
	if opts != nil {
		o = *opts
	}
	w := &webIdentity{now: cacheopts.Now(o.Cache)}
	if err := w.validate(&o); err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, o.Config, o.Region, "WebIdentityOptions.Region")
	if err != nil {
		return nil, err
	}
	if cfg.Region == "aws-global" {
		return nil, errors.New(`aws: the region is "aws-global", the STS global endpoint, which does not serve GetWebIdentityToken; set WebIdentityOptions.Region or AWS_REGION to the workload's region, such as us-east-1`)
	}
	// The SDK client and the expiry arithmetic must see the same
	// credentials, so both read one credentials cache.
	if !sdkaws.IsCredentialsProvider(cfg.Credentials, (*sdkaws.CredentialsCache)(nil)) {
		cfg.Credentials = sdkaws.NewCredentialsCache(cfg.Credentials)
	}
	w.creds = cfg.Credentials
	w.client = sts.NewFromConfig(cfg, func(so *sts.Options) {
		so.Retryer = sdkaws.NopRetryer{}
		// Never follow a redirect (the signed request carries the session
		// token in X-Amz-Security-Token, which Go forwards to any host),
		// and read replies through a size limit (the SDK's XML decoder
		// buffers character data without a bound): the gate httpClient
		// puts under every client does both.
		if o.HTTPClient != nil {
			so.HTTPClient = o.HTTPClient
		}
		so.HTTPClient = httpClient(so.HTTPClient)
		if o.Endpoint != "" {
			so.BaseEndpoint = sdkaws.String(o.Endpoint)
		}
	})
	if ep := w.client.Options().BaseEndpoint; ep != nil {
		// Messages quote the endpoint without user info or query.
		w.endpoint = srvtext.URL(*ep)
		u, err := url.Parse(*ep)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("aws: the STS endpoint %q is not a URL; set WebIdentityOptions.Endpoint (or AWS_ENDPOINT_URL_STS) to a URL such as https://sts.us-east-1.amazonaws.com", w.endpoint)
		}
		if strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), "sts.amazonaws.com") {
			return nil, fmt.Errorf("aws: the STS endpoint %q is the global endpoint, which does not serve GetWebIdentityToken; use the regional endpoint https://sts.%s.amazonaws.com", w.endpoint, cfg.Region)
		}
		// SigV4 headers, the session token and the issued JWT must not
		// cross a network in clear text.
		if err := idphttp.CheckEndpoint("aws", endpointSetting(o, *ep), *ep); err != nil {
			return nil, err
		}
	} else {
		w.endpoint = "https://sts." + cfg.Region + ".amazonaws.com"
	}
	return oauthbearer.NewCache(cacheopts.Kind(w, "aws sts web identity"), cacheopts.WithName(o.Cache, "aws sts web identity"))
}

// endpointSetting names where the STS endpoint ep came from, as the user
// wrote it.
func endpointSetting(o WebIdentityOptions, ep string) string {
	switch {
	case o.Endpoint != "":
		return "WebIdentityOptions.Endpoint"
	case o.Config != nil && o.Config.BaseEndpoint != nil && *o.Config.BaseEndpoint == ep:
		return "WebIdentityOptions.Config.BaseEndpoint"
	case o.Config == nil && os.Getenv("AWS_ENDPOINT_URL_STS") == ep:
		return "AWS_ENDPOINT_URL_STS"
	case o.Config == nil && os.Getenv("AWS_ENDPOINT_URL") == ep:
		return "AWS_ENDPOINT_URL"
	}
	return "the STS endpoint (endpoint_url in the shared config profile, or WebIdentityOptions.Endpoint)"
}

func (w *webIdentity) validate(o *WebIdentityOptions) error {
	switch {
	case len(o.Audience) == 0:
		return audience.Check("aws.WebIdentityOptions", "Audience", "", "")
	case len(o.Audience) > 10:
		return fmt.Errorf("aws: WebIdentityOptions.Audience has %d values; STS accepts at most 10", len(o.Audience))
	}
	for i, a := range o.Audience {
		if err := audience.Check("aws.WebIdentityOptions", fmt.Sprintf("Audience[%d]", i), a, ""); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(a); n > 1000 { // characters, as the service model counts
			return fmt.Errorf("aws: WebIdentityOptions.Audience[%d] is %d characters long (%s); each audience must be at most 1000 characters", i, n, srvtext.Quote(a, 0))
		}
	}
	w.audiences = slices.Clone(o.Audience)

	switch o.SigningAlgorithm {
	case "":
		w.alg = rs256
	case rs256, es384:
		w.alg = o.SigningAlgorithm
	default:
		return fmt.Errorf("aws: WebIdentityOptions.SigningAlgorithm is %s; use %q (default) or %q", srvtext.Quote(o.SigningAlgorithm, 0), rs256, es384)
	}

	d, err := lifetime("aws.WebIdentityOptions", o.Lifetime, defaultDuration, minDuration, maxDuration)
	if err != nil {
		return err
	}
	w.duration = int32(d / time.Second)

	if len(o.Tags) > 50 {
		return fmt.Errorf("aws: WebIdentityOptions.Tags has %d tags; STS accepts at most 50", len(o.Tags))
	}
	keys := make([]string, 0, len(o.Tags))
	for k := range o.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := o.Tags[k]
		if !tagKeyPattern.MatchString(k) {
			return fmt.Errorf("aws: WebIdentityOptions.Tags key %s is invalid; use 1 to 128 letters, digits, spaces or _.:/=+-@", srvtext.Quote(k, 0))
		}
		if !tagValuePattern.MatchString(v) {
			return fmt.Errorf("aws: WebIdentityOptions.Tags[%s] is %s; use up to 256 letters, digits, spaces or _.:/=+-@", srvtext.Quote(k, 0), srvtext.Quote(v, 0))
		}
		w.tags = append(w.tags, types.Tag{Key: sdkaws.String(k), Value: sdkaws.String(v)})
	}
	return nil
}

// Token calls GetWebIdentityToken once. It is the raw source under the
// cache.
func (w *webIdentity) Token(ctx context.Context) (oauthbearer.Token, error) {
	creds, err := retrieveCredentials(ctx, w.creds)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	duration := w.duration
	if creds.CanExpire {
		// STS refuses a token that outlives the session
		// (SessionDurationEscalationException); keep a little room for
		// clock skew between this machine and AWS.
		left := creds.Expires.Sub(w.now()) - 30*time.Second
		if left < minDuration {
			if cc, ok := w.creds.(*sdkaws.CredentialsCache); ok {
				cc.Invalidate()
			}
			return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf(
				"aws: the AWS credentials expire at %s, too soon for a token of at least %s; the credential provider should renew them, so this is retried (check the provider if it persists)",
				creds.Expires.UTC().Format(time.RFC3339), minDuration), 0)
		}
		duration = min(duration, int32(left/time.Second))
	}
	out, err := w.client.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
		Audience:         w.audiences,
		SigningAlgorithm: sdkaws.String(w.alg),
		DurationSeconds:  sdkaws.Int32(duration),
		Tags:             w.tags,
	})
	if err != nil {
		return oauthbearer.Token{}, w.mapError(ctx, err, creds.SessionToken, creds.SecretAccessKey)
	}
	if out.WebIdentityToken == nil || *out.WebIdentityToken == "" {
		return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf("aws: STS at %s answered GetWebIdentityToken without a token; retrying", w.endpoint), 0)
	}
	claims, err := jwtClaims(*out.WebIdentityToken)
	if err != nil {
		return oauthbearer.Token{}, fmt.Errorf("aws: STS at %s returned a web identity token that is not a JWT (%v); check WebIdentityOptions.Endpoint", w.endpoint, err)
	}
	var exp time.Time
	switch {
	case out.Expiration != nil:
		exp = *out.Expiration
	case claims.Exp != 0:
		exp = time.Unix(claims.Exp, 0)
	}
	if exp.IsZero() {
		return oauthbearer.Token{}, fmt.Errorf("aws: STS at %s returned a token without an expiration; check WebIdentityOptions.Endpoint", w.endpoint)
	}
	if creds.CanExpire && creds.Expires.Before(exp) {
		exp = creds.Expires
	}
	return oauthbearer.Token{Value: *out.WebIdentityToken, Expiry: exp, Principal: claims.Sub}, nil
}

type jwtPayload struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
}

// jwtClaims decodes (without verifying: the receiver does that) the
// claims this package needs. Errors never quote the token.
func jwtClaims(tok string) (jwtPayload, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jwtPayload{}, fmt.Errorf("%d dot-separated parts instead of 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return jwtPayload{}, errors.New("the payload is not base64url")
	}
	var p jwtPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return jwtPayload{}, errors.New("the payload is not a JSON object with sub and exp")
	}
	if p.Sub == "" {
		return jwtPayload{}, errors.New("the payload has no sub claim")
	}
	return p, nil
}

// clipped returns an SDK error, whose message quotes the server's reply,
// sealed (internal/fetchrec.Seal): its text scrubbed of the credentials
// the request carried (an endpoint that echoes the request would
// otherwise put the session token in our error) and of control
// characters, and cut to maxSDKMessage bytes, so that a broken endpoint
// cannot blow up error messages and logs. errors.Is still matches through
// it (context.DeadlineExceeded); the SDK's error itself, whose fields
// quote the reply, is not reachable.
func clipped(err error, sent []string) error {
	return fetchrec.Seal(err, func(s string) string { return srvtext.Clip(srvtext.Scrub(s, sent...), maxSDKMessage) })
}

const maxSDKMessage = 1024

// mapError turns an STS failure into an error that says what to do:
// permanent for configuration and permission problems, transient for
// throttling, server errors and network trouble.
func (w *webIdentity) mapError(ctx context.Context, err error, sent ...string) error {
	var refused *idphttp.RedirectError
	if errors.As(err, &refused) {
		return refused // permanent: the endpoint setting is wrong
	}
	raw := err // classified here; callers get it sealed (clipped)
	err = clipped(raw, sent)
	if ctx.Err() != nil {
		return fmt.Errorf("aws: GetWebIdentityToken at %s: %w", w.endpoint, err)
	}
	var status int
	var re interface{ HTTPStatusCode() int }
	if errors.As(raw, &re) {
		status = re.HTTPStatusCode()
	}
	var disabled *types.OutboundWebIdentityFederationDisabledException
	if errors.As(raw, &disabled) {
		return fmt.Errorf("aws: outbound web identity federation is disabled for this AWS account (%w); enable it once per account with `aws iam enable-outbound-web-identity-federation` or in the IAM console (Account settings, Outbound identity federation); %s", err, troubleshooting.See("aws-outbound-federation-disabled"))
	}
	var escalation *types.SessionDurationEscalationException
	if errors.As(raw, &escalation) {
		if cc, ok := w.creds.(*sdkaws.CredentialsCache); ok {
			cc.Invalidate()
		}
		return oauthbearer.Transient(fmt.Errorf("aws: STS refused a token that would outlive the AWS credentials (%w); retrying with renewed credentials (check this machine's clock if it persists)", err), 0)
	}
	var tooBig *types.JWTPayloadSizeExceededException
	if errors.As(raw, &tooBig) {
		return fmt.Errorf("aws: the web identity token would be too large (%w); use fewer or shorter WebIdentityOptions.Tags", err)
	}
	var regionOff *types.RegionDisabledException
	if errors.As(raw, &regionOff) {
		return fmt.Errorf("aws: STS is not activated in this region (%w); activate the region in the IAM console (Account settings, Security Token Service) or set WebIdentityOptions.Region to another", err)
	}
	var apiErr smithy.APIError
	if !errors.As(raw, &apiErr) {
		// No answer from STS, or an answer that could not be read.
		return oauthbearer.Transient(fmt.Errorf("aws: GetWebIdentityToken at %s failed: %w", w.endpoint, err), retryAfterOf(raw))
	}
	switch code := apiErr.ErrorCode(); {
	case code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" ||
		code == "TooManyRequestsException" || code == "ServiceUnavailable" || code == "InternalFailure" ||
		code == "IDPCommunicationError" || status == http.StatusTooManyRequests || status >= 500:
		return oauthbearer.Transient(fmt.Errorf("aws: GetWebIdentityToken at %s was throttled or failed on the server side: %w", w.endpoint, err), retryAfterOf(raw))
	case code == "AccessDenied" || code == "AccessDeniedException":
		return fmt.Errorf("aws: the IAM principal may not get web identity tokens for audiences %q (%w); allow the action sts:GetWebIdentityToken in its IAM policy with the condition \"ForAllValues:StringEquals\": {\"sts:IdentityTokenAudience\": <your audiences>}; if the policy also limits sts:DurationSeconds, it must allow %d; %s",
			w.audiences, err, w.duration, troubleshooting.See("aws-access-denied"))
	case code == "ExpiredToken" || code == "ExpiredTokenException":
		if cc, ok := w.creds.(*sdkaws.CredentialsCache); ok {
			cc.Invalidate()
		}
		return oauthbearer.Transient(fmt.Errorf("aws: the AWS session credentials have expired (%w); retrying with renewed credentials", err), 0)
	case code == "InvalidAction":
		return fmt.Errorf("aws: STS at %s does not serve GetWebIdentityToken (%w); the global endpoint sts.amazonaws.com does not: use a regional endpoint (set WebIdentityOptions.Region, and Endpoint or AWS_ENDPOINT_URL_STS if set); %s", w.endpoint, err, troubleshooting.See("aws-global-endpoint"))
	case code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" || code == "IncompleteSignature" ||
		code == "MissingAuthenticationToken" || code == "UnrecognizedClientException":
		return fmt.Errorf("aws: STS at %s rejected the request's AWS credentials or signature (%w); check the credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, the workload's role), the region and this machine's clock", w.endpoint, err)
	default:
		return fmt.Errorf("aws: GetWebIdentityToken at %s failed (%w); check WebIdentityOptions", w.endpoint, err)
	}
}
