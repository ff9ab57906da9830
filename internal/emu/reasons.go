package emu

import "github.com/streamidentity/kafka-workload-identity/internal/jwtverify"

// Reasons the bench's in-process broker records in
// oauthbearertest.Authentication.Reason when it refuses an authentication.
// They live here, not in the public bench, because only this repository's
// tests match on them; the public godoc lists the values.
const (
	// RejectMalformedToken: the bearer token is not a parseable JWS, or
	// uses an algorithm outside RS256/RS384/RS512/PS256/ES256/ES384.
	RejectMalformedToken = string(jwtverify.Malformed)
	// RejectUnknownKid: the token's header has no kid, or a kid not in
	// the JWKS even after a refetch.
	RejectUnknownKid = string(jwtverify.UnknownKid)
	// RejectBadSignature: the signature does not verify with the kid's key.
	RejectBadSignature = string(jwtverify.BadSignature)
	// RejectBadIssuer: "iss" differs from the expected issuer.
	RejectBadIssuer = string(jwtverify.BadIssuer)
	// RejectBadAudience: the expected audience is not among "aud".
	RejectBadAudience = string(jwtverify.BadAudience)
	// RejectExpired: "exp" plus the clock skew is not after now.
	RejectExpired = string(jwtverify.Expired)
	// RejectNoExpiry: the token has no "exp".
	RejectNoExpiry = string(jwtverify.NoExpiry)
	// RejectNoSubject: the subject claim is missing, not a string, or
	// blank.
	RejectNoSubject = string(jwtverify.NoSubject)
	// RejectNotYetValid: "nbf" is later than now plus the clock skew.
	RejectNotYetValid = string(jwtverify.NotYetValid)
	// RejectNoIssuedAt: the token has no numeric "iat".
	RejectNoIssuedAt = "no_issued_at"
	// RejectBadScope: the "scope" claim is blank or holds a blank or
	// non-string scope.
	RejectBadScope = "bad_scope"
	// RejectMalformedMessage: the SASL client-first message does not
	// follow RFC 7628 as Kafka parses it.
	RejectMalformedMessage = "malformed_client_first_message"
	// RejectAuthzIDMismatch: the authzid (a=...) is not the principal.
	RejectAuthzIDMismatch = "authzid_mismatch"
	// RejectPrincipalChanged: a re-authentication changed the principal.
	RejectPrincipalChanged = "principal_changed"
	// RejectByHook: the broker's Verdict hook refused the token.
	RejectByHook = "rejected_by_hook"
)
