package aws_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// AWS credentials the target signs with: secrets that must never leak.
const (
	fuzzSecretKey    = "fuzzSecretAccessKeyCanary0123456789abcdef"
	fuzzSessionToken = "fuzzSessionTokenCanary/FwoGZXIvYXdzEJr"
)

// maxErrorMessage bounds what a reply can make an error message grow to.
const maxErrorMessage = 4096

// stsReply answers every request with one reply.
type stsReply struct {
	status     int
	retryAfter string
	body       []byte
}

func (r *stsReply) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {"fuzz-request"}}
	if r.retryAfter != "" {
		h.Set("Retry-After", r.retryAfter)
	}
	return &http.Response{StatusCode: r.status, Header: h, Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body)), Request: req}, nil
}

func stsJWT(claims string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + e([]byte(claims)) + ".c2ln"
}

var jwtChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

// FuzzSTSReply feeds arbitrary GetWebIdentityToken replies (status,
// Retry-After, XML body) through aws-sdk-go-v2's STS client and this
// package's error mapping. Invariants: the AWS secret key and session
// token never appear in an error, nor the web identity token received;
// errors are bounded and name the package; a token comes only from a 200
// whose token is a JWT with a subject and an expiry.
func FuzzSTSReply(f *testing.F) {
	good := stsJWT(`{"sub":"arn:aws:iam::123456789012:role/producer","aud":"kafka","exp":4102444800}`)
	ok := func(tok, exp string) string {
		return `<GetWebIdentityTokenResponse xmlns="` + stsNS + `"><GetWebIdentityTokenResult><WebIdentityToken>` + tok +
			`</WebIdentityToken>` + exp + `</GetWebIdentityTokenResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>`
	}
	fail := func(typ, code, msg string) string {
		return `<ErrorResponse xmlns="` + stsNS + `"><Error><Type>` + typ + `</Type><Code>` + code + `</Code><Message>` + msg + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`
	}
	for _, s := range []struct {
		status     int
		retryAfter string
		body       string
	}{
		{200, "", ok(good, `<Expiration>2099-01-01T00:00:00Z</Expiration>`)},
		{200, "", ok(good, ``)},
		{200, "", ok(stsJWT(`{"aud":"kafka"}`), ``)},
		{200, "", ok("opaque-not-a-jwt-token-value", ``)},
		{200, "", ok("", ``)},
		{200, "", ok(good, `<Expiration>not a date</Expiration>`)},
		{200, "", `<GetWebIdentityTokenResponse><GetWebIdentityTokenResult>`},
		{200, "", `not xml`},
		{403, "", fail("Sender", "OutboundWebIdentityFederationDisabledException", "Outbound web identity federation is disabled for this account")},
		{403, "", fail("Sender", "AccessDenied", "User is not authorized to perform: sts:GetWebIdentityToken")},
		{403, "", fail("Sender", "SessionDurationEscalationException", "too long")},
		{400, "", fail("Sender", "InvalidAction", "Could not find operation GetWebIdentityToken")},
		{403, "", fail("Sender", "SignatureDoesNotMatch", "signature")},
		{400, "", fail("Sender", "ExpiredToken", "The security token included in the request is expired")},
		{400, "", fail("Sender", "Throttling", "Rate exceeded")},
		{429, "7", ``},
		{503, "", fail("Receiver", "ServiceUnavailable", "")},
		{500, "", "\x00\xff<"},
	} {
		f.Add(s.status, s.retryAfter, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		cfg := sdkaws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKIAFUZZ", fuzzSecretKey, fuzzSessionToken),
			HTTPClient:  &stsReply{status: status, retryAfter: retryAfter, body: body},
		}
		src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Config: &cfg})
		require.NoError(t, err)
		defer src.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tok, err := src.Token(ctx)
		src.Close()
		if err == nil {
			// The SDKs take any 2xx as success, as HTTP allows; real endpoints
			// answer 200, but a 2xx with a token in it is still a token.
			require.True(t, status >= 200 && status < 300, "a %d reply produced a token", status)
			require.NotEmpty(t, tok.Value)
			require.NotEmpty(t, tok.Principal, "a token without subject")
			require.True(t, bytes.Contains(body, []byte(tok.Value[:len(tok.Value)/2])), "the token is not from the reply")
			return
		}
		msg := err.Error()
		for _, secret := range []string{fuzzSecretKey, fuzzSessionToken} {
			require.NotContains(t, msg, secret, "the error leaks an AWS credential")
		}
		if status == http.StatusOK {
			// A token is base64url parts and dots. Other text in the
			// element (say "&00000000000000000", seen by this target) is
			// not a token, and the XML decoder may quote it.
			if i, j := bytes.Index(body, []byte("<WebIdentityToken>")), bytes.Index(body, []byte("</WebIdentityToken>")); i >= 0 && j > i+len("<WebIdentityToken>")+16 {
				if tok := string(body[i+len("<WebIdentityToken>") : j]); jwtChars.MatchString(tok) {
					require.NotContains(t, msg, tok, "the error quotes the web identity token")
				}
			}
		}
		require.Contains(t, msg, "aws", "error %q does not name the package", msg)
		require.LessOrEqual(t, len(msg), maxErrorMessage, "the reply blew the error up to %d bytes", len(msg))
		var te *oauthbearer.TransientError
		if errors.As(err, &te) {
			require.GreaterOrEqual(t, te.RetryAfter, time.Duration(0))
		}
		require.False(t, strings.Contains(msg, "AKIAFUZZ") && strings.Contains(msg, "Credential="), "the error quotes the signature header")
	})
}
