// Package spiffe is a token source of SPIFFE JWT-SVIDs, fetched from the
// SPIFFE Workload API (a SPIRE agent's socket, or any other implementation)
// with go-spiffe's client, for Kafka clusters that validate them like any
// JWT: the listener trusts the SPIRE bundle's keys (a JWKS made from
// `spire-server bundle show -format spiffe`, or SPIRE's OIDC discovery
// provider), the issuer set as the server's jwt_issuer, and the audience.
//
// [New] takes the cluster's expected audience and the Workload API's
// address (default: SPIFFE_ENDPOINT_SOCKET), and returns a token source for
// any of this module's Kafka adapters (such as franzsasl.Mechanism). Close
// it after the Kafka client: that closes the gRPC connection. See the
// example of [New].
//
// JWT-SVIDs live minutes (SPIRE's default is 5), so the [oauthbearer.Cache]
// that New returns refreshes at about 80% of each one's life and stops
// handing one out within a tenth of its life of its exp. The agent hands
// the same SVID back until half its life has passed, so refreshes past
// that point always bring a new one.
//
// A missing socket or a stopped agent is a transient error matching
// [ErrAgentUnavailable]; the cache keeps serving a valid SVID while it
// retries, and reconnects within seconds once the agent is back. A process
// no registration entry matches gets [ErrNoIdentity] (SPIRE's
// PermissionDenied "no identity issued").
//
// This package is a module of its own so that only its users download
// go-spiffe and gRPC. Package spiffetest, in the same module, is a
// Workload API emulator for tests.
package spiffe
