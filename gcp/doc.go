// Package gcp gets SASL/OAUTHBEARER tokens for Kafka from a workload's
// Google Cloud identity, with no sidecar and no key file: the service
// account of the GCE VM, GKE pod (workload identity) or Cloud Run service
// is the credential, found by Application Default Credentials (ADC).
//
// Two token sources, each an [oauthbearer.Cache] that refreshes in the
// background and is cheap to call on every connection:
//
//   - [NewManagedKafka] is for Google Cloud Managed Service for Apache
//     Kafka: an ADC access token (scope cloud-platform) wrapped exactly as
//     Google's Java GcpLoginCallbackHandler wraps it, the format the
//     service accepts over SASL_SSL/OAUTHBEARER. It replaces Google's
//     local Python token server. The token's Principal is the service
//     account's email.
//   - [NewIDToken] is for any Kafka that validates OIDC JWTs (Apache
//     Kafka 4.2+, Confluent Cloud identity pools, Aiven): a Google-signed
//     ID token for a configured audience, from the metadata server or a
//     service-account key. Point the cluster at issuer
//     https://accounts.google.com and JWKS
//     https://www.googleapis.com/oauth2/v3/certs; the principal (sub) is
//     the service account's numeric unique ID.
//
// Credentials come from golang.org/x/oauth2/google's ADC discovery
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's well-known file, then the
// metadata server) unless [ManagedKafkaOptions.CredentialsJSON] or
// MetadataServer choose them. On Google Cloud the metadata server is read
// with cloud.google.com/go/compute/metadata through the caller's
// HTTPClient and context; GCE_METADATA_HOST redirects it (tests, local
// emulators).
//
// The example of [NewManagedKafka] builds a source; give it to a Kafka
// client adapter with TLS on and the cluster's bootstrap address,
// bootstrap.<cluster>.<region>.managedkafka.<project>.cloud.goog:9092.
package gcp
