// Package rejectreason names the reasons the bench's in-process broker
// records in oauthbearertest.Authentication.Reason when it refuses an
// authentication. They live here, not in the public bench, because only
// this repository's tests match on them; the public godoc lists the
// values.
package rejectreason

import "github.com/streamidentity/kafka-workload-identity/internal/jwtverify"

// Reasons of the JWT checks and of the SASL exchange.
const (
	// MalformedToken: the bearer token is not a parseable JWS, or
	// uses an algorithm outside RS256/RS384/RS512/PS256/ES256/ES384.
	MalformedToken = string(jwtverify.Malformed)
	// UnknownKid: the token's header has no kid, or a kid not in
	// the JWKS even after a refetch.
	UnknownKid = string(jwtverify.UnknownKid)
	// BadSignature: the signature does not verify with the kid's key.
	BadSignature = string(jwtverify.BadSignature)
	// BadIssuer: "iss" differs from the expected issuer.
	BadIssuer = string(jwtverify.BadIssuer)
	// BadAudience: the expected audience is not among "aud".
	BadAudience = string(jwtverify.BadAudience)
	// Expired: "exp" plus the clock skew is not after now.
	Expired = string(jwtverify.Expired)
	// NoExpiry: the token has no "exp".
	NoExpiry = string(jwtverify.NoExpiry)
	// NoSubject: the subject claim is missing, not a string, or
	// blank.
	NoSubject = string(jwtverify.NoSubject)
	// NotYetValid: "nbf" is later than now plus the clock skew.
	NotYetValid = string(jwtverify.NotYetValid)
	// NoIssuedAt: the token has no numeric "iat".
	NoIssuedAt = "no_issued_at"
	// BadScope: the "scope" claim is blank or holds a blank or
	// non-string scope.
	BadScope = "bad_scope"
	// MalformedMessage: the SASL client-first message does not
	// follow RFC 7628 as Kafka parses it.
	MalformedMessage = "malformed_client_first_message"
	// AuthzIDMismatch: the authzid (a=...) is not the principal.
	AuthzIDMismatch = "authzid_mismatch"
	// PrincipalChanged: a re-authentication changed the principal.
	PrincipalChanged = "principal_changed"
	// ByHook: the broker's Verdict hook refused the token.
	ByHook = "rejected_by_hook"
)

// Reasons the bench's broker records when its Google Managed Kafka mode
// refuses a wrapped access token (besides MalformedToken, Expired,
// NoSubject and BadScope).
const (
	// UnknownAccessToken: the wrapper's third segment is not an access
	// token the configured metadata server issued.
	UnknownAccessToken = "unknown_access_token"
	// SubjectMismatch: the wrapper's sub is not the email of the service
	// account the access token belongs to, or its exp is later than the
	// access token's expiry.
	SubjectMismatch = "subject_mismatch"
)
