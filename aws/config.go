package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// loadConfig returns a copy of cfg, or the SDK's default configuration
// when cfg is nil, with region applied over it. A region is required:
// field names the option to set in the error.
func loadConfig(ctx context.Context, cfg *sdkaws.Config, region, field string) (sdkaws.Config, error) {
	var c sdkaws.Config
	if cfg != nil {
		c = cfg.Copy()
	} else {
		// The credential providers of the default chain (web identity,
		// ECS, IMDS, SSO) keep no idle connection either. It must stay a
		// BuildableClient, the only kind to which the loader can add
		// AWS_CA_BUNDLE; so these providers keep the SDK's redirect
		// policy (307 and 308 only, and Go follows neither for a request
		// whose body it cannot replay, as the SDK's are).
		opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.NewBuildableClient().
			WithTransportOptions(func(tr *http.Transport) { tr.DisableKeepAlives = true }).WithTimeout(idphttp.DefaultTimeout)),
			boundedWebIdentityToken()}
		if region != "" {
			opts = append(opts, config.WithRegion(region))
		}
		// sharedfiles.go: the shared config and credentials files and
		// the CA bundle, checked within ctx before the SDK reads them.
		shared, err := boundedSharedFiles(ctx)
		if err != nil {
			return sdkaws.Config{}, err
		}
		c, err = config.LoadDefaultConfig(ctx, append(opts, shared...)...)
		if err != nil {
			return sdkaws.Config{}, fmt.Errorf("aws: loading the default AWS configuration failed: %w; check AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, or pass %s.Config", err, strings.Split(field, ".")[0])
		}
	}
	if region != "" {
		c.Region = region
	}
	if c.Region == "" {
		return sdkaws.Config{}, fmt.Errorf("aws: no AWS region is set; set %s, or AWS_REGION (or region in the shared config profile); %s", field, troubleshooting.See("aws-no-region"))
	}
	if c.Credentials == nil {
		return sdkaws.Config{}, fmt.Errorf("aws: no AWS credentials provider is configured; set %s.Config.Credentials, or leave %s.Config nil to use the default credential chain",
			strings.Split(field, ".")[0], strings.Split(field, ".")[0])
	}
	return c, nil
}

// retrieveCredentials fetches credentials from p, marking failures that
// may pass (network trouble, a throttled or failing credential endpoint)
// as transient.
func retrieveCredentials(ctx context.Context, p sdkaws.CredentialsProvider) (sdkaws.Credentials, error) {
	creds, err := p.Retrieve(ctx)
	if err == nil && (creds.AccessKeyID == "" || creds.SecretAccessKey == "") {
		err = errors.New("the provider returned empty credentials")
	}
	if err == nil {
		return creds, nil
	}
	// The SDK's credential errors never include the secret key, but they
	// quote replies (AssumeRoleWithWebIdentity's, which may echo the web
	// identity token): scrub them like every quoted SDK message.
	raw := err
	err = fmt.Errorf("aws: retrieving AWS credentials failed: %w; check the credential chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, the ECS or EC2 role)", clipped(raw, nil))
	if ctx.Err() == nil && isTransientTransport(raw) {
		return creds, oauthbearer.Transient(err, retryAfterOf(raw))
	}
	return creds, err
}

// isTransientTransport reports network failures and 429/5xx answers.
func isTransientTransport(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == http.StatusTooManyRequests || s >= 500
	}
	return false
}

// retryAfterOf returns the Retry-After the server sent with the response
// behind err, in seconds or as an HTTP date, or zero.
func retryAfterOf(err error) time.Duration {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	return retryafter.Parse(re.Response.Header.Get("Retry-After"), time.Now())
}

// httpClient applies the module's identity-provider HTTP policy to an AWS
// SDK client: redirects are never followed (the signed request carries
// the session token in X-Amz-Security-Token, which Go forwards to any
// host, and the SDK's own client follows 307 and 308), and a refused
// redirect is returned as the *idphttp.RedirectError. nil and the SDK's
// BuildableClient become a client with the same transport settings but
// no keep-alives (a source fetches a few times an hour; without an idle
// connection no connection goroutine outlives its Close) and, unless
// set, a 30s timeout (BuildableClient's read timeout is not kept). A
// caller's *http.Client is copied, not modified. Other implementations
// cannot be changed: they must not follow redirects themselves.
func httpClient(c sdkaws.HTTPClient) sdkaws.HTTPClient {
	switch c := c.(type) {
	case nil:
		return idphttp.Guard(idphttp.Client(nil, "aws"), "aws")
	case *http.Client:
		return idphttp.Guard(idphttp.Client(c, "aws"), "aws")
	case *awshttp.BuildableClient:
		tr := c.GetTransport()
		tr.DisableKeepAlives = true
		return idphttp.Guard(idphttp.Client(&http.Client{Transport: tr, Timeout: cmp.Or(c.GetTimeout(), idphttp.DefaultTimeout)}, "aws"), "aws")
	}
	return idphttp.Guard(c, "aws")
}

// lifetime is the rule for a Lifetime option (MSKOptions,
// WebIdentityOptions): zero means def, and the duration in effect must be
// whole seconds from lo to hi. It returns that duration, or an
// *oauthbearer.OptionError naming options' Lifetime as the user wrote it.
func lifetime(options string, d, def, lo, hi time.Duration) (time.Duration, error) {
	eff, err := cacheopts.Duration(options, "Lifetime", d, def)
	if err != nil {
		return 0, err
	}
	if eff < lo || eff > hi || eff%time.Second != 0 {
		_, typ, _ := strings.Cut(options, ".")
		return 0, &oauthbearer.OptionError{Options: options, Fields: []string{"Lifetime"},
			Err: fmt.Errorf("aws: %s.Lifetime is %s; use whole seconds from %s to %s (default %s)", typ, d, lo, hi, def)}
	}
	return eff, nil
}
