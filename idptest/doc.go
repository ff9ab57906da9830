// Package idptest runs emulators of the identity providers and services
// this module talks to (Entra ID, Azure IMDS, AWS STS, GCE metadata and
// Google's token endpoint, an OAuth 2.0 authorization server, Confluent
// Cloud's STS and Schema Registry) on 127.0.0.1, for tests: the real SDKs
// reach them over HTTP, as they reach the real services, and every
// emulator is as strict as the service it stands for, so that a client
// that passes here does not fail in the cloud for a reason the emulator
// let through.
//
// Each emulator is started by its constructor, NewX(t, opts) (opts may be
// nil for the defaults), which registers Close with t.Cleanup and reports
// bad options with t.Fatalf; [TB] is the part of testing.TB they use. Each
// embeds a [Server], which gives its URL, an HTTP client that trusts it,
// the requests it received and the faults to inject.
//
// The emulators:
//
//   - [Issuer]: an OpenID Connect issuer (JWKS and discovery document)
//     that mints and signs JWTs, rotates keys, and stands in for a
//     Kubernetes service-account issuer or any other token issuer.
//   - [Entra]: Microsoft Entra ID's v2.0 token endpoint for the
//     client-credentials grant with a federated client assertion (MSAL's
//     and azidentity's workload identity): it verifies the assertion
//     against the app's federated credentials and answers with Entra's
//     AADSTS errors. It serves TLS.
//   - [IMDS]: the Azure Instance Metadata Service's managed-identity token
//     endpoint: the Metadata header, api-version, resource and at most one
//     identity selector are required; proxied requests are refused.
//   - [GCE]: the Google Compute Engine metadata server's service-account
//     endpoints (access and ID tokens, email, project) with the
//     Metadata-Flavor rules, and Google's token endpoint for the
//     jwt-bearer grant of a service-account key file.
//   - [STS]: AWS STS's GetWebIdentityToken over the awsquery protocol:
//     SigV4 checks (with a secret, the signature itself), the parameter
//     constraints and errors of AWS's published service model, IAM policy
//     conditions, and tokens with IAM's claims.
//   - [OAuthServer]: an RFC 6749 token endpoint for the client-credentials
//     grant (client_secret_basic, client_secret_post, private_key_jwt,
//     tls_client_auth) and the RFC 7523 jwt-bearer grant.
//   - [ConfluentSTS]: Confluent Cloud's token exchange (RFC 8693) of an
//     identity provider's JWT for an identity pool's access token.
//   - [SchemaRegistry]: a small in-memory Confluent Schema Registry behind
//     OAuth bearer authentication with Confluent Cloud's headers.
//
// What each emulator received is in [Server.Requests]: one [Request] per
// request, oldest first, faulted or not, with what the emulator
// understood of it (tenant, client, scope, audience, STS parameters, ...)
// and the token it issued. Request.Token and Request.Assertion are
// credentials, kept so that tests can check them; a test must not log
// them.
//
// [Server.FailNext] queues faults for the next requests: an HTTP status
// with a body, an error Code and Message rendered in the emulator's own
// error format (OAuth JSON, Entra's JSON, the STS XML error, Schema
// Registry's JSON), latency, a hung or trickled reply, a truncated or
// oversized body, or an error that echoes the request back (to prove a
// client never quotes its credentials). A [Fault] with a Path applies to
// that URL path only.
//
// In a test, t is the test's *testing.T:
//
//	func TestOrders(t *testing.T) {
//		idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
//			Signer:  idptest.NewIssuer(t, nil),
//			Clients: map[string]idptest.OAuthClient{"orders": {Secret: "s3cret"}},
//		})
//		idp.FailNext(1, idptest.Fault{Status: http.StatusServiceUnavailable})
//
//		// Run the code under test with token URL idp.TokenURL, client ID
//		// "orders" and secret "s3cret"; it should retry once.
//
//		if n := len(idp.Issued()); n != 1 {
//			t.Fatalf("%d tokens issued, want 1", n)
//		}
//	}
//
// The runnable examples below pass a stand-in for t instead, since an
// Example function has none.
package idptest
