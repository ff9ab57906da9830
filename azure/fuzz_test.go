package azure_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// maxErrorMessage bounds what an identity provider's reply can make an
// error message grow to: the message ends up in logs and alerts.
const maxErrorMessage = 4096

// b64 encodes a JWT segment.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func fuzzJWT(claims string) string {
	return b64(`{"alg":"RS256","typ":"JWT","kid":"k1"}`) + "." + b64(claims) + ".c2lnbmF0dXJl"
}

// FuzzDiagnose decodes arbitrary access tokens for diagnostics. Whatever
// the input, neither the error nor the report may contain the token (the
// report is logged and put in errors), the report is one line (no log
// injection through a claim), and the string claims it reports are the
// token's.
func FuzzDiagnose(f *testing.F) {
	f.Add(fuzzJWT(`{"ver":"2.0","iss":"https://login.microsoftonline.com/t/v2.0","aud":"api://kafka","tid":"t","oid":"o","azp":"app","exp":4102444800}`))
	f.Add(fuzzJWT(`{"ver":"1.0","iss":"https://sts.windows.net/t/","aud":["a","b"],"appid":"app","sub":"s","exp":1}`))
	f.Add(fuzzJWT(`{"iss":"x\ny","aud":"\u2028","exp":"soon","iat":1e300}`))
	f.Add(fuzzJWT(`{"exp":-9223372036854775808,"nbf":null}`))
	f.Add(fuzzJWT(`[]`))
	f.Add("not-a-jwt")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		rep, err := azure.Diagnose(token)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "azure: "), "error %q lacks the package prefix", err)
			if len(token) >= 8 {
				require.NotContains(t, err.Error(), token, "the error quotes the token")
			}
			return
		}
		s := rep.String()
		require.NotContains(t, s, token, "the report contains the token")
		require.NotContains(t, fmt.Sprintf("%+v", rep), token, "the report's %%+v contains the token")
		require.False(t, strings.ContainsAny(s, "\r\n"), "the report %q spans lines", s)
		for _, p := range rep.Problems() {
			require.False(t, strings.ContainsAny(p, "\r\n"), "the problem %q spans lines", p)
		}

		// The string claims the report quotes are the token's.
		parts := strings.Split(token, ".")
		raw, derr := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		if derr != nil || json.Unmarshal(raw, &claims) != nil {
			return
		}
		str := func(k string) string { s, _ := claims[k].(string); return s }
		require.Equal(t, str("ver"), rep.Version)
		require.Equal(t, str("iss"), rep.Issuer)
		require.Equal(t, str("tid"), rep.TenantID)
		require.Equal(t, str("oid"), rep.ObjectID)
		require.Equal(t, str("sub"), rep.Subject)
		require.Equal(t, rep.Version == "1.0" || strings.HasPrefix(rep.Issuer, "https://sts.windows.net/"), rep.IsV1())
	})
}

// replyTransport answers every token request with a fixed reply, and
// Entra's tenant discovery with a valid document, so that azidentity
// parses exactly the fuzzed body.
type replyTransport struct {
	status     int
	retryAfter string
	body       []byte
}

// NoMetadataProxy tells the credential gate that this fake network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (rt *replyTransport) NoMetadataProxy() {}

func (rt *replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration") {
		base := "https://" + req.URL.Host + strings.TrimSuffix(req.URL.Path, "/v2.0/.well-known/openid-configuration")
		doc, _ := json.Marshal(map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
			"jwks_uri":               base + "/discovery/v2.0/keys",
		})
		return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(doc)), Request: req}, nil
	}
	if rt.retryAfter != "" {
		h.Set("Retry-After", rt.retryAfter)
	}
	return &http.Response{StatusCode: rt.status, Status: fmt.Sprintf("%d %s", rt.status, http.StatusText(rt.status)),
		Header: h, Body: io.NopCloser(bytes.NewReader(rt.body)), ContentLength: int64(len(rt.body)), Request: req}, nil
}

var _ http.RoundTripper = (*replyTransport)(nil)

// The federated service-account token: a secret that must never leak.
var fuzzAssertion = fuzzJWT(`{"iss":"https://oidc.example/k8s","sub":"system:serviceaccount:kafka:producer","aud":"api://AzureADTokenExchange","exp":4102444800,"x":"fuzz-assertion-canary"}`)

func fuzzReplySeeds(f *testing.F) {
	good := fuzzJWT(`{"ver":"2.0","iss":"https://login.microsoftonline.com/t/v2.0","aud":"api://kafka","oid":"o","exp":4102444800}`)
	for _, s := range []struct {
		status     int
		retryAfter string
		body       string
	}{
		{200, "", `{"access_token":"` + good + `","expires_in":"3599","expires_on":"4102444800","token_type":"Bearer","resource":"api://kafka"}`},
		{200, "", `{"access_token":"` + good + `","expires_in":3599,"token_type":"Bearer"}`},
		{200, "", `{"access_token":"` + good + `","expires_on":"12/31/2099 23:59:59 +00:00","token_type":"Bearer"}`},
		{200, "", `{"access_token":"` + good + `","expires_in":"soon"}`},
		{200, "", `{"access_token":"` + good + `"`},
		{200, "", `{"token_type":"Bearer"}`},
		{400, "", `{"error":"invalid_request","error_description":"Identity not found"}`},
		{400, "", `{"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range. Trace ID: x\r\nCorrelation ID: y","error_codes":[700024]}`},
		{400, "", `{"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found for presented assertion.","error_codes":[70021]}`},
		{401, "", `{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject","error_codes":[700213]}`},
		{404, "", `{"error":"not_found"}`},
		{410, "5", ``},
		{429, "30", `{"error":"too_many_requests"}`},
		{429, "Wed, 21 Oct 2099 07:28:00 GMT", `{}`},
		{429, "99999999999999", `{}`},
		{500, "", `<html>oops</html>`},
		{503, "", "\x00\xff"},
	} {
		f.Add(s.status, s.retryAfter, []byte(s.body))
	}
}

// fetchReply builds a source with newSource on a transport that answers
// status, retryAfter and body, fetches one token and closes the source.
// It returns the token, the source's log and the error.
func fetchReply(t *testing.T, status int, retryAfter string, body []byte,
	newSource func(*http.Client, *oauthbearer.CacheOptions) (*oauthbearer.Cache, error),
) (oauthbearer.Token, string, error) {
	var logs bytes.Buffer
	src, err := newSource(&http.Client{Transport: &replyTransport{status: status, retryAfter: retryAfter, body: body}},
		&oauthbearer.CacheOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	defer src.Close()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := src.Token(c)
	src.Close()
	return tok, logs.String(), err
}

// checkReply holds the invariants shared by the IMDS and Entra targets.
func checkReply(t *testing.T, status int, body []byte, tok oauthbearer.Token, err error, logs string) {
	t.Helper()
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &reply)
	if len(reply.AccessToken) >= 16 && status == http.StatusOK {
		require.NotContains(t, logs, reply.AccessToken, "a log record contains the access token")
		if err != nil {
			require.NotContains(t, err.Error(), reply.AccessToken, "the error quotes the access token")
		}
	}
	if err == nil {
		// The SDKs take any 2xx as success, as HTTP allows; real endpoints
		// answer 200, but a 2xx with a token in it is still a token.
		require.True(t, status >= 200 && status < 300, "a %d reply produced a token", status)
		require.NotEmpty(t, tok.Value)
		require.Equal(t, reply.AccessToken, tok.Value, "the token is not the reply's access_token")
		require.False(t, tok.Expiry.IsZero(), "a token without expiry")
		return
	}
	msg := err.Error()
	require.Contains(t, msg, "azure", "error %q does not name the source")
	require.LessOrEqual(t, len(msg), maxErrorMessage, "the reply blew the error up to %d bytes", len(msg))
	var te *oauthbearer.TransientError
	if errors.As(err, &te) {
		require.GreaterOrEqual(t, te.RetryAfter, time.Duration(0), "negative Retry-After")
	}
	var ae *azure.Error
	if errors.As(err, &ae) && ae.StatusCode != 0 {
		require.Equal(t, status, ae.StatusCode)
	}
}

// FuzzManagedIdentityReply feeds arbitrary IMDS replies (status,
// Retry-After and body) through azidentity's managed identity credential
// and this package's error mapping.
func FuzzManagedIdentityReply(f *testing.F) {
	fuzzReplySeeds(f)
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		tok, logs, err := fetchReply(t, status, retryAfter, body, func(hc *http.Client, cache *oauthbearer.CacheOptions) (*oauthbearer.Cache, error) {
			return azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: uniqueTarget(t),
				HTTPClient: hc, Retry: policy.RetryOptions{MaxRetries: -1}, Cache: cache})
		})
		checkReply(t, status, body, tok, err, logs)
	})
}

// FuzzWorkloadIdentityReply feeds arbitrary Entra token endpoint replies
// through azidentity's workload identity credential and this package's
// error mapping, and checks that the federated token never leaks.
func FuzzWorkloadIdentityReply(f *testing.F) {
	fuzzReplySeeds(f)
	file := filepath.Join(f.TempDir(), "token")
	require.NoError(f, os.WriteFile(file, []byte(fuzzAssertion), 0o600))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		tok, logs, err := fetchReply(t, status, retryAfter, body, func(hc *http.Client, cache *oauthbearer.CacheOptions) (*oauthbearer.Cache, error) {
			return azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: "api://kafka",
				ClientID: wiClient, TenantID: wiTenant, TokenFilePath: file, AuthorityHost: "https://login.fuzz.invalid/",
				Getenv: getenv(nil), DisableInstanceDiscovery: true,
				HTTPClient: hc, Retry: policy.RetryOptions{MaxRetries: -1}, Cache: cache})
		})
		if err != nil {
			require.NotContains(t, err.Error(), fuzzAssertion, "the error quotes the federated token")
			require.NotContains(t, err.Error(), "fuzz-assertion-canary")
		}
		require.NotContains(t, logs, fuzzAssertion, "a log record contains the federated token")
		checkReply(t, status, body, tok, err, logs)
	})
}
