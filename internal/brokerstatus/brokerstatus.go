// Package brokerstatus explains a broker's SASL/OAUTHBEARER error status,
// for oauthbearer.RejectedError's message and the adapters' tests.
package brokerstatus

import "github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"

// Hint explains a broker's OAUTHBEARER error status: what usually
// causes it and how to fix it.
func Hint(status string) string {
	switch status {
	case "invalid_token":
		return "the broker's token validator refused the JWT; the usual causes are a signature the broker cannot verify " +
			"(its JWKS URL points at another issuer, or the signing key rotated and the broker has not refreshed its JWKS), " +
			"an issuer (iss) or audience (aud) that differs from the broker's expected.issuer / expected.audience, " +
			"an expired token (check clock skew), or a missing subject claim (sub.claim.name); the precise reason is in the broker's log; " + troubleshooting.See("invalid-token")
	case "JWT_PROCESSING_FAILED":
		return "Confluent Cloud could not process the JWT; with Microsoft Entra ID this almost always means a v1 token: " +
			"set accessTokenAcceptedVersion to 2 in the App Registration manifest, then check the identity provider's issuer and the token's audience; " + troubleshooting.See("jwt-processing-failed")
	case "JWT_HEADER_KID_LOOKUP_FAILED":
		return "the key ID (kid) in the token header is not in the JWKS the cluster fetched; the identity provider's JWKS URI " +
			"in the cluster configuration is wrong, or the issuer rotated keys that the cluster has not seen yet; " + troubleshooting.See("jwt-header-kid-lookup-failed")
	case "invalid_request":
		return "the broker could not parse the SASL/OAUTHBEARER request; check the SASL extensions and that the token is a compact JWT; " + troubleshooting.See("invalid-request")
	case "insufficient_scope":
		return "the token lacks a scope the broker requires; check the scope or audience you request; " + troubleshooting.See("invalid-request")
	default:
		return "the token was refused; see the broker or cluster log for the reason, and check the token's issuer, audience and expiry; " + troubleshooting.See("rejected-token")
	}
}
