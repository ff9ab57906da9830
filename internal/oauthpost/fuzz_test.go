package oauthpost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// maxErrorMessage bounds what a server's reply can make an error message
// grow to: the message ends up in logs and alerts.
const maxErrorMessage = 4096

// Secrets the token endpoint targets send, which must never leak.
const (
	fuzzClientSecret = "cc-secret-canary-7Hq2"
	fuzzSubjectClaim = "subject-canary-9Zx4"
)

var fuzzSubjectToken = fuzzB64(`{"alg":"RS256","kid":"k"}`) + "." + fuzzB64(`{"sub":"`+fuzzSubjectClaim+`","exp":4102444800}`) + ".c2ln"

func fuzzB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fixedReply answers every request with one reply.
type fixedReply struct {
	status     int
	retryAfter string
	body       []byte
}

func (f *fixedReply) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if f.retryAfter != "" {
		h.Set("Retry-After", f.retryAfter)
	}
	return &http.Response{StatusCode: f.status, Header: h, Body: io.NopCloser(bytes.NewReader(f.body)), Request: req}, nil
}

// FuzzTokenReply feeds arbitrary token endpoint replies (status,
// Retry-After, body) to the Confluent STS exchange (sts true) and the
// client credentials grant. Invariants: no secret we sent and no access
// token we received appears in an error; errors are bounded and name the
// package; a token comes only from a 200 with that reply's access_token
// and a future expiry; a server's Retry-After is honoured within [0, 1h].
func FuzzTokenReply(f *testing.F) {
	good := fuzzB64(`{"alg":"RS256"}`) + "." + fuzzB64(`{"sub":"u-1","exp":4102444800}`) + ".c2ln"
	for _, s := range []struct {
		status     int
		retryAfter string
		body       string
	}{
		{200, "", `{"access_token":"` + good + `","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":900}`},
		{200, "", `{"access_token":"` + good + `","token_type":"bearer","expires_in":"900"}`},
		{200, "", `{"access_token":"` + good + `"}`},
		{200, "", `{"access_token":"opaque-token-value-1234","token_type":"Bearer"}`},
		{200, "", `{"access_token":"opaque-token-value-1234","token_type":"mac","expires_in":1}`},
		{200, "", `{"access_token":"opaque-token-value-1234","expires_in":-5}`},
		{200, "", `{"access_token":"opaque-token-value-1234","expires_in":9223372036854775807}`},
		{200, "", `{"access_token":"opaque-token-value-1234","expires_in":"1e9"}`},
		{200, "", `{"access_token":""}`},
		{200, "", `{"access_token":"` + good + `"`},
		{400, "", `{"error":"invalid_grant","error_description":"JWT_PROCESSING_FAILED"}`},
		{400, "", `{"errors":[{"status":"400","code":"invalid_request","detail":"identity pool not found"}]}`},
		{401, "", `{"error":"invalid_client"}`},
		{403, "", `<html>Forbidden</html>`},
		{429, "30", `{}`},
		{429, "Wed, 21 Oct 2099 07:28:00 GMT", ``},
		{503, "99999999999999999", "\x00\xff"},
	} {
		f.Add(true, s.status, s.retryAfter, []byte(s.body))
		f.Add(false, s.status, s.retryAfter, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, sts bool, status int, retryAfter string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		client := &http.Client{Transport: &fixedReply{status: status, retryAfter: retryAfter, body: body}}
		const endpoint = "https://api.confluent.fuzz/sts/v1/oauth2/token"
		// The two callers' requests: the STS exchange sends the subject
		// token in the form, client credentials the secret in Basic auth.
		form := url.Values{"grant_type": {"client_credentials"}}
		var setAuth func(*http.Request)
		if sts {
			form = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {fuzzSubjectToken}, "identity_pool_id": {"pool-abc1"}}
		} else {
			setAuth = func(r *http.Request) { r.SetBasicAuth("client-1", fuzzClientSecret) }
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var tok oauthbearer.Token
		tr, err := PostForm(ctx, client, "fuzzpkg", endpoint, form, setAuth)
		if err == nil {
			tok, err = tr.Token("fuzzpkg", start, RedactURL(endpoint))
		}

		var reply struct {
			AccessToken string          `json:"access_token"`
			ExpiresIn   json.RawMessage `json:"expires_in"`
		}
		_ = json.Unmarshal(body, &reply)
		if err == nil {
			require.Equal(t, http.StatusOK, status, "a %d reply produced a token", status)
			require.Equal(t, reply.AccessToken, tok.Value, "the token is not the reply's access_token")
			require.False(t, tok.Expiry.IsZero(), "a token without expiry")
			// expires_in counts from the request; a JWT's own exp may be
			// in the past (the cache refuses such a token, not the
			// source: seen by this target as {"access_token":".eyJleHAiOjY0MCB9."}).
			if len(reply.ExpiresIn) > 0 && string(reply.ExpiresIn) != "null" {
				require.True(t, tok.Expiry.After(start), "expires_in %s gave an expiry of %s, before the request", reply.ExpiresIn, tok.Expiry)
			}
			return
		}
		msg := err.Error()
		for _, secret := range []string{fuzzClientSecret, fuzzSubjectToken, fuzzSubjectClaim} {
			if !bytes.Contains(body, []byte(secret)) {
				require.NotContains(t, msg, secret, "the error leaks a secret we sent")
			}
		}
		if status == http.StatusOK && len(reply.AccessToken) >= 8 {
			require.NotContains(t, msg, reply.AccessToken, "the error quotes the access token")
		}
		if _, ok := errors.AsType[*Refusal](err); !ok {
			require.True(t, strings.HasPrefix(msg, "fuzzpkg: "), "error %q lacks the package prefix", msg)
		}
		require.LessOrEqual(t, len(msg), maxErrorMessage, "the reply blew the error up to %d bytes", len(msg))
		var te *oauthbearer.TransientError
		if errors.As(err, &te) {
			require.GreaterOrEqual(t, te.RetryAfter, time.Duration(0))
			require.LessOrEqual(t, te.RetryAfter, time.Hour)
		}
	})
}
