// Package azure supplies SASL/OAUTHBEARER tokens from Azure identities —
// managed identity (IMDS), AKS workload identity, a default chain, or any
// azidentity credential — for Kafka clients and Schema Registry, with no
// secrets.
//
// Every constructor returns an [*oauthbearer.Cache]: azidentity fetches,
// the cache refreshes in the background and hands the token to every
// connection without a network call.
//
// The example of [NewManagedIdentity] builds a source; give it to a Kafka
// client adapter (franzsasl, saramasasl, kafkagosasl, confluentkafka).
//
// Audiences are normalised by [NormalizeAudience]: an application ID, an
// api:// application ID URI or a <resource>/.default scope.
// [EventHubsScope] builds the scope for Azure Event Hubs' Kafka endpoint.
//
// # A refresh reaches the identity endpoint
//
// MSAL (v1.10.1, under azidentity) keeps managed-identity tokens in a
// process-wide cache and writes each token there before it computes the
// token's renew-after time, so the cached entry has none: asking
// azidentity again at the cache's refresh point (80% of the life) would
// return the same token until MSAL's own five-minute expiry margin, one
// to three minutes before expiry at a 1-hour and a 24-hour lifetime alike,
// leaving minutes instead of hours of cushion against an IMDS outage. A
// fresh ManagedIdentityCredential per fetch does not help (the cache is
// per process). So every managed-identity request (NewManagedIdentity,
// and the managed-identity step of NewDefaultChain) passes a claims
// challenge (an nbf of now), the documented way to make MSAL skip its
// cache; MSAL sends no claims to IMDS or the other managed-identity
// endpoints, which get the usual resource and identity only. Calling
// IMDS ourselves would also work but would give up azidentity's choice of
// endpoint (App Service, Arc, Service Fabric, ...) and its error model.
// Workload identity and the default chain's service principal build a
// new credential for each fetch, whose MSAL cache starts empty.
//
// Failures follow the module's retry contract: IMDS 404/410, 429, 5xx and
// network errors are [oauthbearer.TransientError]s (with the server's
// Retry-After); 400/401/403 are permanent [*Error]s that quote Entra's
// AADSTS code and say what to fix (a stale federated token file for
// AADSTS700024, a wrong client or tenant ID, a missing federated
// credential). Throttling and server errors are retried by the cache,
// spread above the Retry-After, never inside a fetch unless a Retry
// option's StatusCodes asks for it; managed identity keeps azidentity's
// IMDS retries for 404 and 410 (IMDS starting or upgrading) inside a
// fetch. [NewFromCredential] leaves the retries of the caller's
// credential as the caller built them.
//
// Entra v1 tokens (App Registrations without accessTokenAcceptedVersion 2)
// are rejected by Confluent Cloud with JWT_PROCESSING_FAILED: sources log
// a warning with a [Report] from [Diagnose], or fail with [ErrV1Token]
// when RequireV2 is set. Token.Principal is the token's oid (else sub).
//
// Tests can run all of this offline against the IMDS and Entra emulators
// of package idptest; see the example.
package azure
