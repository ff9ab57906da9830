// Package rejectreason names the reasons, other than a JWT check's, that
// the bench's in-process broker records in
// oauthbearertest.Authentication.Reason when it refuses an
// authentication: the SASL exchange's and those of the Google Managed
// Kafka mode. The JWT checks' reasons are jwtverify's Reason values. They
// live here, not in the public bench, because only this repository's
// tests match on them; the public godoc lists the values.
package rejectreason

// Reasons of the SASL exchange.
const (
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
// refuses a wrapped access token (besides jwtverify's Malformed, Expired,
// NoExpiry, NoSubject and BadScope).
const (
	// UnknownAccessToken: the wrapper's third segment is not an access
	// token the configured metadata server issued.
	UnknownAccessToken = "unknown_access_token"
	// SubjectMismatch: the wrapper's sub is not the email of the service
	// account the access token belongs to, or its exp is later than the
	// access token's expiry.
	SubjectMismatch = "subject_mismatch"
)
