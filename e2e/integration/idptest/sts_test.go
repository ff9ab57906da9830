package idptest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

const (
	stsTestKey    = "AKIDEXAMPLE"
	stsTestSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// stsClient is the real aws-sdk-go-v2 STS client pointed at the emulator,
// with the SDK's retries off so every error reaches the test.
func stsClient(e *idptest.STS, region, secret, sessionToken string) *sts.Client {
	return sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(stsTestKey, secret, sessionToken),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   e.Client(),
	})
}

func TestSTSGetWebIdentityTokenWithTheRealSDK(t *testing.T) {
	t.Parallel()
	e := idptest.NewSTS(t, &idptest.STSOptions{
		AccessKeyID: stsTestKey, SecretAccessKey: stsTestSecret,
		RoleARN: "arn:aws:iam::111122223333:role/orders",
	})
	verifier := jwtverify.New(e.JWKSURL, e.Client())
	for _, tc := range []struct {
		alg, session string
		duration     *int32
		audiences    []string
		wantTTL      time.Duration
	}{
		{alg: "RS256", audiences: []string{"kafka.example.com"}, wantTTL: 300 * time.Second},
		{alg: "ES384", audiences: []string{"kafka.example.com", "sr.example.com"}, duration: aws.Int32(3600), wantTTL: time.Hour},
		{alg: "RS256", session: "FwoGZXIvYXdzEXAMPLE", audiences: []string{"a"}, duration: aws.Int32(60), wantTTL: time.Minute},
	} {
		t.Run(tc.alg+"/"+strings.Join(tc.audiences, ","), func(t *testing.T) {
			t.Parallel()
			before := time.Now().Truncate(time.Second)
			out, err := stsClient(e, "us-west-2", stsTestSecret, tc.session).GetWebIdentityToken(context.Background(), &sts.GetWebIdentityTokenInput{
				Audience:         tc.audiences,
				SigningAlgorithm: aws.String(tc.alg),
				DurationSeconds:  tc.duration,
				Tags:             []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
			})
			require.NoError(t, err)
			require.NotNil(t, out.WebIdentityToken)
			require.NotNil(t, out.Expiration)
			assert.WithinDuration(t, before.Add(tc.wantTTL), *out.Expiration, 2*time.Second)

			for _, aud := range tc.audiences {
				claims, sub, err := verifier.Verify(*out.WebIdentityToken, jwtverify.Expect{Issuer: e.IssuerURL, Audience: aud})
				require.NoError(t, err)
				assert.Equal(t, "arn:aws:iam::111122223333:role/orders", sub)
				exp, err := claims.GetExpirationTime()
				require.NoError(t, err)
				assert.True(t, exp.Equal(*out.Expiration), "exp claim %s, Expiration %s", exp, out.Expiration)
				aws := claims["https://sts.amazonaws.com/"].(map[string]any)
				assert.Equal(t, "111122223333", aws["aws_account"])
				assert.Equal(t, "us-west-2", aws["source_region"])
				assert.Equal(t, map[string]any{"team": "payments"}, aws["request_tags"])
			}
			tok, _, err := jwt.NewParser().ParseUnverified(*out.WebIdentityToken, jwt.MapClaims{})
			require.NoError(t, err)
			assert.Equal(t, tc.alg, tok.Header["alg"])
		})
	}
}

func TestSTSRecordsAcceptedCalls(t *testing.T) {
	t.Parallel()
	e := idptest.NewSTS(t, nil)
	_, err := stsClient(e, "us-west-2", "any-secret", "session").GetWebIdentityToken(context.Background(), &sts.GetWebIdentityTokenInput{
		Audience: []string{"x", "y"}, SigningAlgorithm: aws.String("ES384"), DurationSeconds: aws.Int32(900),
	})
	require.NoError(t, err)
	rs := e.Requests()
	require.Len(t, rs, 1)
	r := rs[0]
	assert.NotEmpty(t, r.Token)
	assert.Equal(t, idptest.Request{Method: http.MethodPost, Path: "/", Query: r.Query, Status: http.StatusOK,
		AccessKeyID: stsTestKey, Region: "us-west-2", Audience: []string{"x", "y"},
		SigningAlgorithm: "ES384", DurationSeconds: 900, SessionToken: true, Token: r.Token,
	}, r)
}

func TestSTSErrorsWithTheRealSDK(t *testing.T) {
	t.Parallel()
	valid := func() *sts.GetWebIdentityTokenInput {
		return &sts.GetWebIdentityTokenInput{Audience: []string{"kafka"}, SigningAlgorithm: aws.String("RS256"), DurationSeconds: aws.Int32(600)}
	}
	for name, tc := range map[string]struct {
		opts     idptest.STSOptions
		region   string
		secret   string
		input    func() *sts.GetWebIdentityTokenInput
		prepare  func(*idptest.STS)
		code     string
		status   int
		typed    any
		contains string
	}{
		"federation disabled": {
			opts: idptest.STSOptions{FederationDisabled: true},
			code: "OutboundWebIdentityFederationDisabledException", status: 403,
			typed: new(*types.OutboundWebIdentityFederationDisabledException),
		},
		"audience not allowed by policy": {
			opts: idptest.STSOptions{AllowedAudiences: []string{"other"}},
			code: "AccessDenied", status: 403, contains: "sts:GetWebIdentityToken",
		},
		"duration not allowed by policy": {
			opts: idptest.STSOptions{MaxDurationSeconds: 300},
			code: "AccessDenied", status: 403, contains: "sts:DurationSeconds",
		},
		"token would outlive the session": {
			opts: idptest.STSOptions{SessionExpiry: time.Now().Add(5 * time.Minute)},
			code: "SessionDurationEscalationException", status: 403,
			typed: new(*types.SessionDurationEscalationException),
		},
		"wrong secret": {
			opts:   idptest.STSOptions{SecretAccessKey: stsTestSecret},
			secret: "not-the-secret",
			code:   "SignatureDoesNotMatch", status: 403, contains: "signature we calculated",
		},
		"unknown access key": {
			opts: idptest.STSOptions{AccessKeyID: "AKIDOTHER"},
			code: "InvalidClientTokenId", status: 403,
		},
		"signed for another region": {
			region: "eu-west-1",
			code:   "SignatureDoesNotMatch", status: 403, contains: "not 'eu-west-1'",
		},
		"global endpoint": {
			opts: idptest.STSOptions{Global: true}, region: "us-east-1",
			code: "InvalidAction", status: 400, contains: "global endpoint",
		},
		"duration too short": {
			input: func() *sts.GetWebIdentityTokenInput { in := valid(); in.DurationSeconds = aws.Int32(59); return in },
			code:  "ValidationError", status: 400, contains: "greater than or equal to 60",
		},
		"duration too long": {
			input: func() *sts.GetWebIdentityTokenInput { in := valid(); in.DurationSeconds = aws.Int32(3601); return in },
			code:  "ValidationError", status: 400, contains: "less than or equal to 3600",
		},
		"unknown algorithm": {
			input: func() *sts.GetWebIdentityTokenInput {
				in := valid()
				in.SigningAlgorithm = aws.String("HS256")
				return in
			},
			code: "ValidationError", status: 400, contains: "[RS256, ES384]",
		},
		"empty audience list": {
			input: func() *sts.GetWebIdentityTokenInput { in := valid(); in.Audience = []string{}; return in },
			code:  "ValidationError", status: 400, contains: "'audience'",
		},
		"bad tag key": {
			input: func() *sts.GetWebIdentityTokenInput {
				in := valid()
				in.Tags = []types.Tag{{Key: aws.String("bad*key"), Value: aws.String("v")}}
				return in
			},
			code: "ValidationError", status: 400, contains: "tags.1.member.key",
		},
		"throttled": {
			prepare: func(e *idptest.STS) {
				e.FailNext(1, idptest.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded", RetryAfter: 3 * time.Second})
			},
			code: "Throttling", status: 400, contains: "Rate exceeded",
		},
		"injected server error": {
			prepare: func(e *idptest.STS) {
				e.FailNext(1, idptest.Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service is unable to handle request."})
			},
			code: "ServiceUnavailable", status: 503,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := idptest.NewSTS(t, &tc.opts)
			if tc.prepare != nil {
				tc.prepare(e)
			}
			region := tc.region
			if region == "" {
				region = "us-west-2"
			}
			secret := tc.secret
			if secret == "" {
				secret = stsTestSecret
			}
			in := valid()
			if tc.input != nil {
				in = tc.input()
			}
			_, err := stsClient(e, region, secret, "").GetWebIdentityToken(context.Background(), in)
			require.Error(t, err)
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.ErrorCode())
			assert.Contains(t, apiErr.ErrorMessage(), tc.contains)
			var re interface{ HTTPStatusCode() int }
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.status, re.HTTPStatusCode())
			if tc.typed != nil {
				assert.ErrorAs(t, err, tc.typed)
			}
			assert.Empty(t, e.Issued(), "no token may be issued")
		})
	}
}

// stsErrorDoc is the awsquery error shape.
type stsErrorDoc struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// signedPost sends body to the emulator signed with SigV4 (unless sign is
// false), then changed by mutate, and returns the status, headers and
// decoded error.
func signedPost(t *testing.T, e *idptest.STS, body, contentType string, sign bool, mutate func(*http.Request)) (int, http.Header, stsErrorDoc) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(body))
	require.NoError(t, err)
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded; charset=utf-8"
	}
	req.Header.Set("Content-Type", contentType)
	if sign {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: stsTestKey, SecretAccessKey: stsTestSecret}
		require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sts", "us-west-2", time.Now()))
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := e.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc stsErrorDoc
	if resp.StatusCode != http.StatusOK {
		require.NoError(t, xml.Unmarshal(raw, &doc), "body: %s", raw)
	}
	return resp.StatusCode, resp.Header, doc
}

func TestSTSMalformedRequestsGetTheRealErrorShape(t *testing.T) {
	t.Parallel()
	e := idptest.NewSTS(t, &idptest.STSOptions{SecretAccessKey: stsTestSecret})
	good := url.Values{"Action": {"GetWebIdentityToken"}, "Version": {"2011-06-15"},
		"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"RS256"}}
	with := func(change func(url.Values)) string {
		v := url.Values{}
		for k, vs := range good {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		return v.Encode()
	}
	for name, tc := range map[string]struct {
		body     string
		ctype    string
		unsigned bool
		mutate   func(*http.Request)
		status   int
		code     string
		contains string
	}{
		"no Authorization header": {body: good.Encode(), unsigned: true, status: 403, code: "MissingAuthenticationToken"},
		"Authorization without a signature": {body: good.Encode(), status: 400, code: "IncompleteSignature",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/sts/aws4_request, SignedHeaders=host;x-amz-date")
			}},
		"no X-Amz-Date": {body: good.Encode(), status: 400, code: "IncompleteSignature",
			mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
		"stale X-Amz-Date": {body: good.Encode(), unsigned: true, status: 403, code: "SignatureDoesNotMatch", contains: "Signature expired",
			mutate: func(r *http.Request) {
				old := time.Now().Add(-time.Hour)
				sum := sha256.Sum256([]byte(good.Encode()))
				creds := aws.Credentials{AccessKeyID: stsTestKey, SecretAccessKey: stsTestSecret}
				require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "sts", "us-west-2", old))
			}},
		"signed for another service": {body: good.Encode(), unsigned: true, status: 403, code: "SignatureDoesNotMatch", contains: "'sts'",
			mutate: func(r *http.Request) {
				sum := sha256.Sum256([]byte(good.Encode()))
				creds := aws.Credentials{AccessKeyID: stsTestKey, SecretAccessKey: stsTestSecret}
				require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "iam", "us-west-2", time.Now()))
			}},
		"body changed after signing": {body: good.Encode(), status: 403, code: "SignatureDoesNotMatch",
			mutate: func(r *http.Request) {
				b := with(func(v url.Values) { v.Set("Audience.member.1", "other") })
				r.Body = io.NopCloser(strings.NewReader(b))
				r.ContentLength = int64(len(b))
			}},
		"no Action":           {body: with(func(v url.Values) { v.Del("Action") }), status: 400, code: "MissingAction"},
		"unknown Action":      {body: with(func(v url.Values) { v.Set("Action", "GetSecrets") }), status: 400, code: "InvalidAction"},
		"wrong Version":       {body: with(func(v url.Values) { v.Set("Version", "2020-01-01") }), status: 400, code: "InvalidAction"},
		"no SigningAlgorithm": {body: with(func(v url.Values) { v.Del("SigningAlgorithm") }), status: 400, code: "ValidationError", contains: "Value null at 'signingAlgorithm'"},
		"no Audience":         {body: with(func(v url.Values) { v.Del("Audience.member.1") }), status: 400, code: "ValidationError", contains: "Value null at 'audience'"},
		"eleven audiences": {body: with(func(v url.Values) {
			for i := 1; i <= 11; i++ {
				v.Set("Audience.member."+strconv.Itoa(i), "a")
			}
		}), status: 400, code: "ValidationError"},
		"non-numeric duration": {body: with(func(v url.Values) { v.Set("DurationSeconds", "5m") }), status: 400, code: "ValidationError", contains: "durationSeconds"},
		"two errors at once": {body: with(func(v url.Values) { v.Set("DurationSeconds", "1"); v.Set("SigningAlgorithm", "none") }),
			status: 400, code: "ValidationError", contains: "2 validation errors detected"},
		"tag without value": {body: with(func(v url.Values) { v.Set("Tags.member.1.Key", "team") }), status: 400, code: "ValidationError", contains: "tags.1.member.value"},
		"JSON body":         {body: `{"Action":"GetWebIdentityToken"}`, ctype: "application/json", status: 400, code: "MalformedInput"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, hdr, doc := signedPost(t, e, tc.body, tc.ctype, !tc.unsigned, tc.mutate)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, "text/xml", hdr.Get("Content-Type"))
			assert.Equal(t, "Sender", doc.Error.Type)
			assert.Equal(t, tc.code, doc.Error.Code)
			assert.NotEmpty(t, doc.Error.Message)
			assert.Contains(t, doc.Error.Message, tc.contains)
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, doc.RequestID)
			assert.Equal(t, doc.RequestID, hdr.Get("x-amzn-RequestId"))
		})
	}
	assert.Empty(t, e.Issued(), "no token may be issued")
}

func TestSTSServesTheIssuerDocuments(t *testing.T) {
	t.Parallel()
	e := idptest.NewSTS(t, nil)
	resp, err := e.Client().Get(e.URL + "/.well-known/openid-configuration")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(raw), `"jwks_uri":"`+e.JWKSURL+`"`)

	resp2, err := e.Client().Get(e.JWKSURL)
	require.NoError(t, err)
	defer resp2.Body.Close()
	raw, _ = io.ReadAll(resp2.Body)
	for _, alg := range []string{"RS256", "ES384"} {
		assert.Contains(t, string(raw), `"kid":"`+kafkatest.KeyID(t, e.Issuer(alg).Mint("s", "a", time.Minute, nil))+`"`)
	}
	assert.Nil(t, e.Issuer("HS256"))
}

func TestSTSFederationCanBeEnabledWhileRunning(t *testing.T) {
	t.Parallel()
	e := idptest.NewSTS(t, &idptest.STSOptions{FederationDisabled: true})
	c := stsClient(e, "us-west-2", stsTestSecret, "")
	in := &sts.GetWebIdentityTokenInput{Audience: []string{"k"}, SigningAlgorithm: aws.String("RS256")}
	_, err := c.GetWebIdentityToken(context.Background(), in)
	var disabled *types.OutboundWebIdentityFederationDisabledException
	require.True(t, errors.As(err, &disabled), "got %v", err)
	e.SetFederationEnabled(true)
	_, err = c.GetWebIdentityToken(context.Background(), in)
	require.NoError(t, err)
}
