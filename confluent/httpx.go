package confluent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// maxResponseBytes bounds every token-endpoint reply read, so a
// misbehaving endpoint cannot exhaust memory.
const maxResponseBytes = 1 << 20

// defaultHTTPTimeout bounds a request when the caller's context has no
// deadline and the caller supplied no HTTP client.
const defaultHTTPTimeout = idphttp.DefaultTimeout

// OAuthError is an error reply from an OAuth 2.0 token endpoint (the
// Confluent Cloud STS or a client-credentials endpoint). It is permanent:
// retrying the same request fails the same way.
type OAuthError struct {
	// Endpoint is the token URL (without query).
	Endpoint string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the OAuth error code ("invalid_grant", ...) or Confluent's
	// error code, if the reply had one.
	Code string
	// Description is the server's explanation, if any.
	Description string
}

// Error names the endpoint, status and code, quotes the server's
// description and says what usually fixes it.
func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("confluent: %s answered %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += fmt.Sprintf(" (%q)", e.Description)
	}
	return msg + ": " + oauthHint(e.StatusCode, e.Code)
}

func oauthHint(status int, code string) string {
	switch code {
	case "invalid_grant":
		return "the subject token was refused; check that the identity provider registered in Confluent Cloud has the token's issuer and JWKS, that the pool's filter matches the token's claims, and that the token is not expired; " + see("confluent-invalid-grant")
	case "invalid_client", "unauthorized_client":
		return "client authentication failed; check the client ID and its secret or private key; " + see("oauth-invalid-client")
	case "invalid_scope":
		return "the scope is not allowed for this client; check the scope setting"
	case "unsupported_grant_type":
		return "the endpoint does not support this grant; check the token endpoint URL"
	case "invalid_request":
		return "the request was refused; check the identity pool ID (pool-...) and the endpoint URL"
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the credentials were refused; check the identity provider and identity pool configuration in Confluent Cloud"
	case http.StatusNotFound:
		return "check the token endpoint URL"
	}
	return "check the token endpoint URL and the request settings"
}

// tokenReply is an RFC 6749 / RFC 8693 token response.
type tokenReply struct {
	AccessToken     string          `json:"access_token"`
	TokenType       string          `json:"token_type"`
	IssuedTokenType string          `json:"issued_token_type"`
	ExpiresIn       json.RawMessage `json:"expires_in"`
	Scope           string          `json:"scope"`
}

// errorReply covers both OAuth 2.0 errors and Confluent Cloud's API
// "Failure" object ({"errors":[{"status","code","detail"}]}).
type errorReply struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Errors      []struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Title  string `json:"title"`
	} `json:"errors"`
}

// postForm POSTs form to endpoint and decodes a successful token reply.
// Failures are classified: network errors, timeouts, 408, 429 and 5xx are
// transient (with Retry-After); other statuses are *OAuthError.
func postForm(ctx context.Context, client *http.Client, endpoint string, form url.Values, setAuth func(*http.Request)) (tokenReply, error) {
	where := redactURL(endpoint)
	if _, ok := ctx.Deadline(); !ok && client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultHTTPTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenReply{}, fmt.Errorf("confluent: building the request to %s: %w", where, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if setAuth != nil {
		setAuth(req)
	}
	sent := sentValues(form, req)
	resp, err := idphttp.Do(client, "confluent", req)
	if err != nil {
		var re *idphttp.RedirectError
		if errors.As(err, &re) {
			return tokenReply{}, re // permanent: the endpoint setting is wrong
		}
		// url.Error repeats the URL; ours has no secrets in it, but keep
		// the message short and the cause matchable.
		return tokenReply{}, oauthbearer.Transient(fmt.Errorf("confluent: %s is unreachable: %w", where, unwrapURLError(err)), 0)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return tokenReply{}, oauthbearer.Transient(fmt.Errorf("confluent: reading the reply from %s: %w", where, unwrapURLError(err)), 0)
	}
	if len(body) > maxResponseBytes {
		return tokenReply{}, fmt.Errorf("confluent: the reply from %s is larger than %d bytes; check that the URL is a token endpoint", where, maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var er errorReply
		_ = json.Unmarshal(body, &er)
		oe := &OAuthError{Endpoint: where, StatusCode: resp.StatusCode, Code: er.Error, Description: er.Description}
		if len(er.Errors) > 0 {
			if oe.Code == "" {
				oe.Code = er.Errors[0].Code
			}
			if oe.Description == "" {
				oe.Description = cmp.Or(er.Errors[0].Detail, er.Errors[0].Title)
			}
		}
		// Identity providers echo the request in their errors: remove
		// what we sent, and clip what a broken server sent at length.
		oe.Code, oe.Description = srvtext.Field(oe.Code, sent...), srvtext.Field(oe.Description, sent...)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500 {
			return tokenReply{}, oauthbearer.Transient(fmt.Errorf("confluent: %s answered %d (%s); retrying", where, resp.StatusCode, cmp.Or(oe.Code, http.StatusText(resp.StatusCode))),
				retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()))
		}
		return tokenReply{}, oe
	}
	var tr tokenReply
	if err := json.Unmarshal(body, &tr); err != nil {
		return tokenReply{}, oauthbearer.Transient(fmt.Errorf("confluent: the reply from %s is not valid JSON (%v); the endpoint or a proxy cut it short", where, err), 0)
	}
	if tr.AccessToken == "" {
		return tokenReply{}, fmt.Errorf("confluent: the reply from %s has no access_token; check that the URL is a token endpoint", where)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return tokenReply{}, fmt.Errorf("confluent: %s returned token_type %q; only Bearer tokens work with SASL/OAUTHBEARER", where, srvtext.Field(tr.TokenType, append(sent, tr.AccessToken)...))
	}
	return tr, nil
}

// token turns a reply into a Token: expiry from expires_in (seconds after
// start) or else the JWT's exp claim; principal from the JWT's sub.
func (tr tokenReply) token(start time.Time, where string) (oauthbearer.Token, error) {
	tok := oauthbearer.Token{Value: tr.AccessToken}
	claims := jwtClaims(tr.AccessToken)
	tok.Principal, _ = claims["sub"].(string)
	if len(tr.ExpiresIn) > 0 && string(tr.ExpiresIn) != "null" {
		s := strings.Trim(string(tr.ExpiresIn), `"`)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > math.MaxInt32 {
			return oauthbearer.Token{}, fmt.Errorf("confluent: %s returned expires_in %s, not a positive number of seconds", where, clip(string(tr.ExpiresIn)))
		}
		tok.Expiry = start.Add(time.Duration(n) * time.Second)
		return tok, nil
	}
	if exp, ok := claims["exp"].(float64); ok && exp > 0 {
		tok.Expiry = time.Unix(int64(exp), 0)
		return tok, nil
	}
	return oauthbearer.Token{}, fmt.Errorf("confluent: %s returned a token with neither expires_in nor an exp claim; the token's lifetime is unknown", where)
}

// jwtClaims decodes a JWT's payload without verifying it: only for
// informational fields (sub, exp) of a token we just received over TLS.
func jwtClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// clip scrubs a value quoted from a server's reply and cuts it to 64
// bytes, so a broken server cannot blow up error messages.
func clip(s string) string {
	return srvtext.Clip(srvtext.Scrub(s), 64)
}

// publicFormKeys are the form fields that carry settings, not
// credentials; every other value a request sends is removed from the
// server's text before it is quoted.
var publicFormKeys = map[string]bool{
	"grant_type": true, "scope": true, "client_id": true, "identity_pool_id": true, "expires_in": true,
	"subject_token_type": true, "requested_token_type": true, "client_assertion_type": true,
}

// sentValues lists what req sends that a server must not be able to make
// us quote: the secret form values (subject token, client assertion) and
// the Authorization header with the credentials in it, both as sent and
// unescaped.
func sentValues(form url.Values, req *http.Request) []string {
	var sent []string
	for k, vs := range form {
		if !publicFormKeys[k] {
			sent = append(sent, vs...)
		}
	}
	if h := req.Header.Get("Authorization"); h != "" {
		sent = append(sent, h)
		if _, v, ok := strings.Cut(h, " "); ok {
			sent = append(sent, v)
		}
	}
	if _, pass, ok := req.BasicAuth(); ok {
		sent = append(sent, pass)
		if raw, err := url.QueryUnescape(pass); err == nil {
			sent = append(sent, raw)
		}
	}
	return sent
}

// redactURL drops the query and user info: they may hold identifiers we
// do not need in messages, or (user info) secrets.
func redactURL(s string) string { return srvtext.URL(s) }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// httpClient returns the client token requests use: a shallow copy of c
// (nil: a client that keeps no idle connections, with a 30s timeout) that
// never follows a redirect, so a credential never reaches a Location.
func httpClient(c *http.Client) *http.Client { return idphttp.Client(c, "confluent") }
