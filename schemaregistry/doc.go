// Package schemaregistry authenticates Confluent Schema Registry clients
// with short-lived bearer tokens from a workload identity.
//
// [Transport] is an http.RoundTripper that adds Authorization: Bearer
// <token>, target-sr-cluster and Confluent-Identity-Pool-Id to each
// request (on a clone: the caller's request is never modified), refreshes
// and retries once on 401, and refuses to send a token over plain http
// to a non-loopback host. [NewHTTPClient] wraps it in an *http.Client for
// franz-go's sr.NewClient (sr.HTTPClient option) or any other client; see
// its example.
//
// [HeaderProvider] fits confluent-kafka-go's schemaregistry client
// (BearerAuthCredentialsSource "CUSTOM") without importing it.
package schemaregistry
