package azure

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Report describes a Microsoft Entra access token, decoded without
// verifying its signature. It holds claims only, never the token, so it
// is safe to log and to put in errors.
type Report struct {
	// Version is the "ver" claim: "1.0", "2.0", or empty when absent.
	Version string
	// Issuer is the "iss" claim. v1 tokens are issued by
	// https://sts.windows.net/<tenant>/, v2 tokens by
	// https://login.microsoftonline.com/<tenant>/v2.0.
	Issuer string
	// Audience is the "aud" claim (values joined with commas).
	Audience string
	// TenantID is the "tid" claim.
	TenantID string
	// ObjectID is the "oid" claim: the service principal or managed
	// identity the token stands for.
	ObjectID string
	// Subject is the "sub" claim.
	Subject string
	// AppID is the client application: "azp" in v2 tokens, "appid" in v1.
	AppID string
	// IssuedAt and Expiry are the "iat" and "exp" claims; zero when absent.
	IssuedAt, Expiry time.Time
	// Remaining is the token's remaining life when it was diagnosed
	// (negative once expired, zero without exp).
	Remaining time.Duration
}

// Diagnose decodes an Entra access token without verifying it and reports
// the claims that explain most broker rejections. The error (for a value
// that is not a JWT) never quotes the token.
func Diagnose(token string) (Report, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		why := "it could not be decoded"
		if errors.Is(err, jwt.ErrTokenMalformed) {
			why = "it is not a compact JWT (three base64url parts with JSON header and claims)"
		}
		return Report{}, fmt.Errorf("azure: cannot diagnose the %d-byte access token: %s; Entra access tokens for Kafka must be JWTs, so check the Audience", len(token), why)
	}
	str := func(k string) string { s, _ := claims[k].(string); return s }
	r := Report{
		Version: str("ver"), Issuer: str("iss"), TenantID: str("tid"),
		ObjectID: str("oid"), Subject: str("sub"), AppID: str("azp"),
	}
	if r.AppID == "" {
		r.AppID = str("appid")
	}
	if aud, err := claims.GetAudience(); err == nil {
		r.Audience = strings.Join(aud, ",")
	}
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		r.IssuedAt = iat.Time
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		r.Expiry = exp.Time
		r.Remaining = time.Until(exp.Time).Truncate(time.Second)
	}
	return r, nil
}

// IsV1 reports whether the token is an Entra v1 token (ver "1.0" or an
// sts.windows.net issuer). Confluent Cloud and most OIDC validators reject
// v1 tokens (JWT_PROCESSING_FAILED) because their issuer does not match
// the tenant's v2 OpenID configuration.
func (r Report) IsV1() bool {
	return r.Version == "1.0" || strings.HasPrefix(r.Issuer, "https://sts.windows.net/")
}

// v1Fix is the remedy for v1 tokens.
const v1Fix = `set "accessTokenAcceptedVersion": 2 in the manifest of the App Registration that represents the Kafka cluster ` +
	`(Microsoft Entra admin center > App registrations > <app> > Manifest; in the Microsoft Graph format the field is api.requestedAccessTokenVersion), ` +
	`then request a new token (tokens already issued stay v1 until they expire); see https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md#entra-v1-token`

// Problems lists what is likely to make a broker reject the token, each
// with its fix. It is empty for a healthy v2 token.
func (r Report) Problems() []string {
	var p []string
	if r.IsV1() {
		p = append(p, "the token is an Entra v1 token (ver "+quoteOrNone(r.Version)+", iss "+quoteOrNone(r.Issuer)+"): "+v1Fix)
	}
	switch {
	case r.Expiry.IsZero():
		p = append(p, "the token has no exp claim; brokers reject tokens without expiry")
	case r.Remaining <= 0:
		p = append(p, "the token expired at "+r.Expiry.UTC().Format(time.RFC3339)+"; check the identity provider and this machine's clock")
	}
	if r.Audience == "" {
		p = append(p, "the token has no aud claim; check the Audience")
	}
	if r.ObjectID == "" && r.Subject == "" {
		p = append(p, "the token has neither oid nor sub; brokers need a subject claim")
	}
	return p
}

func quoteOrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return fmt.Sprintf("%q", s)
}

// String renders the report on one line, with its problems. It never
// contains the token.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ver=%s iss=%s aud=%s tid=%s oid=%s sub=%s app=%s", quoteOrNone(r.Version), quoteOrNone(r.Issuer),
		quoteOrNone(r.Audience), quoteOrNone(r.TenantID), quoteOrNone(r.ObjectID), quoteOrNone(r.Subject), quoteOrNone(r.AppID))
	if r.Expiry.IsZero() {
		b.WriteString(" exp=<none>")
	} else {
		fmt.Fprintf(&b, " exp=%s remaining=%s", r.Expiry.UTC().Format(time.RFC3339), r.Remaining)
	}
	for _, p := range r.Problems() {
		b.WriteString("; problem: " + p)
	}
	return b.String()
}

// principal is what a token stands for: its oid, else its sub.
func (r Report) principal() string {
	if r.ObjectID != "" {
		return r.ObjectID
	}
	return r.Subject
}
