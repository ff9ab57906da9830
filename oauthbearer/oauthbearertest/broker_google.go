package oauthbearertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/internal/rejectreason"
)

// googleHeader is the first segment of Google Managed Kafka's wrapper, as
// GcpLoginCallbackHandler writes it.
const googleAlg = "GOOG_OAUTH2_TOKEN"

// isGoogleWrapped reports whether token's header names Google's
// GOOG_OAUTH2_TOKEN pseudo-algorithm: such a token goes to the Google
// check, every other one to the JWT validator.
func isGoogleWrapped(token string) bool {
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	var hdr map[string]any
	return json.Unmarshal(b, &hdr) == nil && hdr["alg"] == googleAlg
}

// googleRefusal is a wrapped token refused by a check of the
// GoogleAccessTokens mode that is not a JWT check: its reason is one of
// rejectreason's Google reasons.
type googleRefusal struct{ reason, detail string }

func (e *googleRefusal) Error() string { return e.reason + ": " + e.detail }

// verifyGoogle checks a Google Managed Kafka wrapped token as the broker's
// GoogleAccessTokens mode documents, returning its claims and subject.
func (b *Broker) verifyGoogle(token string) (jwt.MapClaims, string, error) {
	bad := func(reason jwtverify.Reason, format string, a ...any) (jwt.MapClaims, string, error) {
		return nil, "", &jwtverify.Error{Reason: reason, Detail: fmt.Sprintf(format, a...)}
	}
	refuse := func(reason, format string, a ...any) (jwt.MapClaims, string, error) {
		return nil, "", &googleRefusal{reason: reason, detail: fmt.Sprintf(format, a...)}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return bad(jwtverify.Malformed, "a Google wrapped token has 3 segments, not %d", len(parts))
	}
	var seg [3][]byte
	for i, p := range parts {
		d, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || len(d) == 0 {
			return bad(jwtverify.Malformed, "segment %d is not base64url without padding", i+1)
		}
		seg[i] = d
	}
	var hdr map[string]any
	if err := json.Unmarshal(seg[0], &hdr); err != nil || len(hdr) != 2 || hdr["typ"] != "JWT" || hdr["alg"] != googleAlg {
		return bad(jwtverify.Malformed, `the header is not {"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}`)
	}
	claims := jwt.MapClaims{}
	dec := json.NewDecoder(strings.NewReader(string(seg[1])))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return bad(jwtverify.Malformed, "the claims are not a JSON object")
	}
	for k, v := range claims {
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			claims[k] = f
		}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return bad(jwtverify.NoExpiry, "the wrapper has no numeric exp claim")
	}
	if scope, _ := claims["scope"].(string); scope != "kafka" {
		return bad(jwtverify.BadScope, `the wrapper's scope claim is not "kafka"`)
	}
	sub, _ := claims["sub"].(string)
	if strings.TrimSpace(sub) == "" {
		return bad(jwtverify.NoSubject, "the wrapper's sub claim (the principal's email) is blank")
	}
	email, expiry, ok := b.opts.GoogleAccessTokens.AccessToken(string(seg[2]))
	if !ok {
		return refuse(rejectreason.UnknownAccessToken, "the third segment is not an access token the metadata server issued")
	}
	// Both expiries are judged against now less the clock-skew allowance.
	cutoff := time.Now().Add(-jwtverify.Allowance(b.opts.ClockSkew))
	if !expiry.After(cutoff) {
		return bad(jwtverify.Expired, "the access token expired at %s", expiry.UTC().Format(time.RFC3339))
	}
	if !exp.After(cutoff) {
		return bad(jwtverify.Expired, "the wrapper's exp %s has passed", exp.UTC().Format(time.RFC3339))
	}
	if sub != email {
		return refuse(rejectreason.SubjectMismatch, "the wrapper's sub %q is not the access token's service account %q", sub, email)
	}
	if exp.Unix() > expiry.Unix() {
		return refuse(rejectreason.SubjectMismatch, "the wrapper's exp %d is later than the access token's expiry %d", exp.Unix(), expiry.Unix())
	}
	return claims, sub, nil
}
