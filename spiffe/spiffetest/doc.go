// Package spiffetest is a test bench for the spiffe package, in the manner
// of net/http/httptest: [NewWorkloadAPI] starts an emulator of a SPIRE
// agent's Workload API on a unix socket, speaking the real gRPC protocol,
// issuing ES256 JWT-SVIDs and serving their keys as a JWKS over HTTP for a
// broker (such as oauthbearertest's in-process broker: its JWKSURL and
// ExpectedIssuer are [WorkloadAPI.JWKSURL] and [WorkloadAPI.IssuerURL]) to
// validate them. Point spiffe.Options.Address at [WorkloadAPI.Address]; see
// the example of [NewWorkloadAPI]. Like the idptest emulators it takes an
// idptest.TB and closes itself when the test ends.
//
// It lives in the spiffe module, not in the root module's idptest, so
// that users of the other emulators never download gRPC; users of spiffe
// have it already. How it matches SPIRE: docs/conformance.md.
package spiffetest
