// Package oauthpost is the one implementation of an OAuth 2.0 token
// request (RFC 6749 section 4.4, RFC 8693) shared by the oauthclient and
// confluent packages: it POSTs a form through the identity-provider HTTP
// policy (internal/idphttp), reads a bounded reply, classifies failures
// (transient with Retry-After, or a permanent [*Refusal]) and turns a
// reply into an oauthbearer.Token. Server text is scrubbed of every value
// the request sent before it is quoted.
package oauthpost

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

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Refusal is a permanent error reply from a token endpoint: the fields of
// an RFC 6749 section 5.2 reply (or Confluent Cloud's "Failure" object),
// already scrubbed and clipped. Callers turn it into their public error
// type (oauthclient.Error).
type Refusal struct {
	Endpoint    string
	StatusCode  int
	Code        string
	Description string
}

// Error is only a fallback: callers convert a Refusal before returning it.
func (r *Refusal) Error() string {
	return fmt.Sprintf("%s answered %d %s", r.Endpoint, r.StatusCode, r.Code)
}

// Reply is an RFC 6749 / RFC 8693 token response.
type Reply struct {
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

// PostForm POSTs form to endpoint with client (already through
// idphttp.Client, whose credential gate bounds a request without a
// deadline by idphttp.DefaultTimeout, the body read included) and decodes a successful token reply. Failures are
// classified: network errors, timeouts, 408, 429 and 5xx are transient
// (with Retry-After); other statuses are a [*Refusal]. pkg starts every
// message ("oauthclient", "confluent").
func PostForm(ctx context.Context, client *http.Client, pkg, endpoint string, form url.Values, setAuth func(*http.Request)) (Reply, error) {
	where := RedactURL(endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Reply{}, fmt.Errorf("%s: building the request to %s: %w", pkg, where, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if setAuth != nil {
		setAuth(req)
	}
	sent := sentValues(form, req)
	resp, err := idphttp.Do(client, pkg, req)
	if err != nil {
		var re *idphttp.RedirectError
		if errors.As(err, &re) {
			return Reply{}, re // permanent: the endpoint setting is wrong
		}
		// url.Error repeats the URL; ours has no secrets in it, but keep
		// the message short and the cause matchable.
		return Reply{}, oauthbearer.Transient(fmt.Errorf("%s: %s is unreachable: %w", pkg, where, unwrapURLError(err)), 0)
	}
	defer resp.Body.Close()
	// The credential gate under client (every caller's client is built by
	// idphttp.Client) bounds the body, so a misbehaving endpoint cannot
	// exhaust memory; over the limit, reading fails with *bodylimit.Error.
	body, err := io.ReadAll(resp.Body)
	if le := (*bodylimit.Error)(nil); errors.As(err, &le) {
		return Reply{}, fmt.Errorf("%s: the reply from %s is larger than %d bytes; check that the URL is a token endpoint", pkg, where, le.Limit)
	}
	if err != nil {
		return Reply{}, oauthbearer.Transient(fmt.Errorf("%s: reading the reply from %s: %w", pkg, where, unwrapURLError(err)), 0)
	}
	if resp.StatusCode != http.StatusOK {
		var er errorReply
		_ = json.Unmarshal(body, &er)
		oe := &Refusal{Endpoint: where, StatusCode: resp.StatusCode, Code: er.Error, Description: er.Description}
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
			return Reply{}, oauthbearer.Transient(fmt.Errorf("%s: %s answered %d (%s); retrying", pkg, where, resp.StatusCode, cmp.Or(oe.Code, http.StatusText(resp.StatusCode))),
				retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()))
		}
		return Reply{}, oe
	}
	var tr Reply
	if err := json.Unmarshal(body, &tr); err != nil {
		return Reply{}, oauthbearer.Transient(fmt.Errorf("%s: the reply from %s is not valid JSON (%v); the endpoint or a proxy cut it short", pkg, where, err), 0)
	}
	if tr.AccessToken == "" {
		return Reply{}, fmt.Errorf("%s: the reply from %s has no access_token; check that the URL is a token endpoint", pkg, where)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return Reply{}, fmt.Errorf("%s: %s returned token_type %q; only Bearer tokens work with SASL/OAUTHBEARER", pkg, where, srvtext.Field(tr.TokenType, append(sent, tr.AccessToken)...))
	}
	return tr, nil
}

// Token turns a reply into a Token: expiry from expires_in (seconds after
// start) or else the JWT's exp claim; principal from the JWT's sub. where
// is the redacted endpoint, pkg starts the messages.
func (tr Reply) Token(pkg string, start time.Time, where string) (oauthbearer.Token, error) {
	tok := oauthbearer.Token{Value: tr.AccessToken}
	claims := jwtClaims(tr.AccessToken)
	tok.Principal, _ = claims["sub"].(string)
	if len(tr.ExpiresIn) > 0 && string(tr.ExpiresIn) != "null" {
		s := strings.Trim(string(tr.ExpiresIn), `"`)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > math.MaxInt32 {
			return oauthbearer.Token{}, fmt.Errorf("%s: %s returned expires_in %s, not a positive number of seconds", pkg, where, clip(string(tr.ExpiresIn)))
		}
		tok.Expiry = start.Add(time.Duration(n) * time.Second)
		return tok, nil
	}
	if exp, ok := claims["exp"].(float64); ok && exp > 0 {
		tok.Expiry = time.Unix(int64(exp), 0)
		return tok, nil
	}
	return oauthbearer.Token{}, fmt.Errorf("%s: %s returned a token with neither expires_in nor an exp claim; the token's lifetime is unknown", pkg, where)
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

// RedactURL drops the query and user info: they may hold identifiers we
// do not need in messages, or (user info) secrets.
func RedactURL(s string) string { return srvtext.URL(s) }

// Origin is the scheme and host of the URL s ("https://idp.example.com"),
// for a cache's default name: it names the endpoint in errors and logs and
// labels metrics, so it carries no path, query or user info (bounded
// cardinality: one value per configured endpoint).
func Origin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return srvtext.URL(s)
	}
	return idphttp.Origin(u)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
