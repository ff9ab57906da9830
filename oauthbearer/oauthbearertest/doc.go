// Package oauthbearertest is a test bench for code that authenticates to
// Kafka and Schema Registry with workload-identity tokens, in the manner of
// net/http/httptest: local, strict stand-ins for every service the
// library's sources call, so that tests and offline demos drive the real
// Azure and AWS SDKs and real Kafka clients without a network.
//
// Every emulator listens on 127.0.0.1 only. NewX(opts) starts one (opts
// may be nil where a zero value is valid) and panics if it cannot, as
// httptest.NewServer does; Close stops it (in a test:
// t.Cleanup(x.Close)). The package does not import testing, so a program
// may use it too. Every HTTP emulator embeds [Server]: its URL, an
// [http.Client] that trusts it, the requests it received
// ([Server.Requests]) and fault injection in one shape for all
// ([Server.FailNext] with a [Fault]: a status with Retry-After, latency,
// a hang, a slow, cut or oversized reply, or an error that echoes the
// request back).
//
// Which emulator stands in for what, and how to point the library at it:
//
//	emulator          stands in for                          point the source at it with
//	[Issuer]          an OIDC issuer (Kubernetes service     IssuerURL / JWKSURL; Mint signs tokens
//	                  accounts, a workload's own tokens)
//	[IMDS]            Azure IMDS, for azure.NewManagedIdentity  ManagedIdentityOptions.HTTPClient = imds.Client()
//	[Entra]           Entra ID, for azure.NewWorkloadIdentity   WorkloadIdentityOptions.AuthorityHost = entra.URL + "/",
//	                                                         HTTPClient = entra.Client() (it serves TLS)
//	[STS]             AWS STS, for aws.NewWebIdentity           WebIdentityOptions.Endpoint = sts.URL (plus test
//	                                                         credentials in WebIdentityOptions.Config)
//	[ConfluentSTS]    Confluent Cloud's token exchange,      STSOptions.Endpoint = csts.TokenURL()
//	                  for confluent.NewSTS
//	[OAuthServer]     any OAuth 2.0 client-credentials IdP,  ClientCredentialsOptions.TokenURL = idp.TokenURL()
//	                  for oauthclient.NewClientCredentials
//	[SchemaRegistry]  Confluent Cloud Schema Registry, for   the registry URL = reg.URL
//	                  schemaregistry.NewHTTPClient
//	[Broker]          a Kafka cluster validating             the client's seed brokers = broker.Addrs()
//	                  SASL/OAUTHBEARER JWTs against a JWKS
//
// How closely each emulator follows the service it stands in for (claims,
// parameters, status codes, error bodies), row by row with the source read
// and every deliberate simplification, is in the repository's
// docs/conformance.md:
// https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/conformance.md.
// In short: the broker needs an expected audience and issuer, as Kafka 4.4
// does (BrokerOptions.AllowUnverifiedAudience and AllowUnverifiedIssuer are
// 4.4's opt-outs); Entra v2 tokens carry the API's application ID in "aud"
// even when requested for an App ID URI (IMDS.AppID, Entra.AppID), and
// Entra's tokens carry its tenant issuer (Entra.IssuerURL).
//
// The Examples show each pairing. The in-process broker is franz-go's
// kfake behind an authenticator that checks tokens as Apache Kafka does;
// no kfake type is part of this package's API; the example of [NewBroker]
// shows it with an [Issuer] and a franz-go client.
package oauthbearertest
