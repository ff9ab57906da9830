// Package oauthbearertest is a test bench for code that authenticates to
// Kafka and Schema Registry with workload-identity tokens, in the manner of
// net/http/httptest: local, strict stand-ins for every endpoint this module
// talks to, so that tests (ours and yours) drive the real azidentity,
// aws-sdk-go-v2, franz-go and sarama clients offline, in milliseconds.
//
//   - [Issuer]: signs JWTs (RS256 or ES384, with kid), serves its JWKS and
//     OIDC discovery document, rotates keys, forges signatures on demand.
//   - [IMDS]: Azure's instance metadata token endpoint for managed identity.
//   - [Entra]: Microsoft Entra ID's v2.0 token endpoint for workload
//     identity (client assertions from a Kubernetes-style issuer), over TLS.
//   - [STS]: AWS STS GetWebIdentityToken over the awsquery protocol.
//   - [ConfluentSTS]: Confluent Cloud's token exchange.
//   - [ClientCredentialsServer]: a generic OAuth 2.0 client-credentials
//     token endpoint.
//   - [SchemaRegistry]: franz-go's srfake behind Confluent Cloud's bearer
//     authentication.
//   - [Broker]: an in-process Kafka cluster (franz-go's kfake) that
//     authenticates SASL/OAUTHBEARER and validates tokens against a JWKS as
//     Apache Kafka does.
//
// Every server listens on 127.0.0.1 only. Each has a NewX(t, opts)
// constructor that closes it when the test ends, and a StartX(opts) one
// for programs (the offline quickstart uses those). Every HTTP emulator
// embeds [Server]: request counters, and fault injection with
// [Server.FailNext] (status codes with Retry-After, latency, hangs, slow
// or malformed or oversized bodies).
//
//	iss := oauthbearertest.NewIssuer(t, nil)
//	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka"})
//	tok := iss.Mint("workload-1", "kafka", time.Hour, nil)
package oauthbearertest
