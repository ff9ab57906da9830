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
// Failures follow the module's retry contract: IMDS 404/410, 429, 5xx and
// network errors are [oauthbearer.TransientError]s (with the server's
// Retry-After); 400/401/403 are permanent [*Error]s that quote Entra's
// AADSTS code and say what to fix (a stale federated token file for
// AADSTS700024, a wrong client or tenant ID, a missing federated
// credential). Managed identity keeps azidentity's IMDS retry policy, so
// one fetch rides out the ~70 s of 410 IMDS answers while it upgrades.
//
// Entra v1 tokens (App Registrations without accessTokenAcceptedVersion 2)
// are rejected by Confluent Cloud with JWT_PROCESSING_FAILED: sources log
// a warning with a [Report] from [Diagnose], or fail with [ErrV1Token]
// when RequireV2 is set. Token.Principal is the token's oid (else sub).
//
// Tests can run all of this offline against the IMDS and Entra emulators
// in package oauthbearertest; see the example.
package azure
