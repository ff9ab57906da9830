package aws

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Limits of an MSK IAM token's X-Amz-Expires.
const (
	mskMinDuration     = time.Minute
	mskMaxDuration     = 15 * time.Minute
	mskDefaultDuration = 15 * time.Minute
)

// The MSK IAM token's request, as AWS's signer libraries build it (the
// values of aws-msk-iam-sasl-signer-go's signer package, kept here so that
// its module, which brings an old aws-sdk-go-v2/internal/ini, is not a
// dependency).
const (
	mskActionType      = "Action"
	mskActionName      = "kafka-cluster:Connect"
	mskSigningName     = "kafka-cluster"
	mskUserAgentKey    = "User-Agent"
	mskExpiresQueryKey = "X-Amz-Expires"
)

// mskUserAgent names this module in MSK's logs, in the
// "<library>/<version>" form of the official signers.
var mskUserAgent = "kafka-workload-identity/" + runtime.Version()

// MSKOptions configures [NewMSK].
type MSKOptions struct {
	// Region is the AWS region of the MSK cluster; the token is signed
	// for kafka.<region>.amazonaws.com. Required. Default: Config.Region,
	// which the default configuration reads from AWS_REGION,
	// AWS_DEFAULT_REGION or the shared config profile.
	Region string

	// Lifetime is how long a token stays valid (X-Amz-Expires), from 1
	// to 15 minutes in whole seconds. Default 15 minutes, as AWS's MSK IAM
	// signers. The token's Expiry is earlier when the AWS credentials
	// expire sooner. No environment fallback.
	Lifetime time.Duration

	// Config is the AWS SDK configuration whose credentials sign the
	// token. It is copied, not modified. Default: config.LoadDefaultConfig,
	// the SDK's standard chain.
	Config *sdkaws.Config

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "aws msk iam". Its Clock
	// is also the signing clock, so a test's fake clock drives both.
	Cache *oauthbearer.CacheOptions
}

type mskIAM struct {
	region   string
	expires  time.Duration
	creds    sdkaws.CredentialsProvider
	now      func() time.Time
	signer   *v4.Signer
	hostname string
}

// NewMSK returns a cached source of Amazon MSK IAM authentication tokens
// for SASL/OAUTHBEARER: a SigV4-presigned kafka-cluster:Connect request
// for kafka.<region>.amazonaws.com, base64url-encoded without padding,
// the format of aws-msk-iam-sasl-signer-go. Each token is signed once
// and reused until the cache's refresh point, so a client opening many
// connections signs once per refresh period. Signing is local: no request
// leaves the process except to the credential provider.
//
// ctx bounds loading the default configuration only; it is not kept.
func NewMSK(ctx context.Context, opts *MSKOptions) (*oauthbearer.Cache, error) {
	var o MSKOptions
	if opts != nil {
		o = *opts
	}
	d, err := lifetime("aws.MSKOptions", o.Lifetime, mskDefaultDuration, mskMinDuration, mskMaxDuration)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, o.Config, o.Region, "MSKOptions.Region")
	if err != nil {
		return nil, err
	}
	m := &mskIAM{
		region:   cfg.Region,
		expires:  d,
		creds:    cfg.Credentials,
		now:      cacheopts.Now(o.Cache),
		signer:   v4.NewSigner(),
		hostname: fmt.Sprintf("kafka.%s.amazonaws.com", cfg.Region),
	}
	return oauthbearer.NewCache(cacheopts.Kind(m, "aws msk iam"), cacheopts.WithName(o.Cache, "aws msk iam"))
}

var emptyPayloadHash = func() string {
	sum := sha256.Sum256(nil)
	return hex.EncodeToString(sum[:])
}()

// Token signs one token. It is the raw source under the cache.
func (m *mskIAM) Token(ctx context.Context) (oauthbearer.Token, error) {
	creds, err := retrieveCredentials(ctx, m.creds)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	now := m.now().UTC().Truncate(time.Second)
	q := url.Values{
		mskActionType:      {mskActionName},
		mskExpiresQueryKey: {strconv.Itoa(int(m.expires / time.Second))},
	}
	u := url.URL{Scheme: "https", Host: m.hostname, Path: "/", RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return oauthbearer.Token{}, fmt.Errorf("aws: building the MSK IAM request for region %q failed: %w; check MSKOptions.Region", m.region, err)
	}
	signed, _, err := m.signer.PresignHTTP(ctx, creds, req, emptyPayloadHash, mskSigningName, m.region, now)
	if err != nil {
		// The signer's errors do not include the secret key; scrub them
		// anyway, as every quoted SDK message is.
		return oauthbearer.Token{}, fmt.Errorf("aws: signing the MSK IAM token failed: %w; check the AWS credentials", clipped(err, []string{creds.SessionToken, creds.SecretAccessKey}))
	}
	su, err := url.Parse(signed)
	if err != nil {
		// url.Error quotes the URL, which holds the signature and the
		// session token.
		return oauthbearer.Token{}, fmt.Errorf("aws: the signed MSK IAM URL does not parse: %w", clipped(err, []string{signed, creds.SessionToken, creds.SecretAccessKey}))
	}
	// Like the official signers, add the User-Agent after signing: MSK
	// reads it for its logs and leaves it out of the signature.
	sq := su.Query()
	sq.Set(mskUserAgentKey, mskUserAgent)
	su.RawQuery = sq.Encode()

	exp := now.Add(m.expires)
	if creds.CanExpire && creds.Expires.Before(exp) {
		exp = creds.Expires
	}
	return oauthbearer.Token{
		Value:  base64.RawURLEncoding.EncodeToString([]byte(su.String())),
		Expiry: exp,
	}, nil
}
