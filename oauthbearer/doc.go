// Package oauthbearer is the core of kafka-workload-identity: the
// [TokenSource] every identity source implements, the [Token] it returns,
// the refreshing [Cache] every source goes through, and the SASL/OAUTHBEARER
// extension rules.
//
// A Kafka client asks for a token on every new connection and on every
// re-authentication. A [Cache] answers from memory with one atomic load,
// fetches from the identity provider once per token lifetime however many
// connections ask, refreshes in the background before expiry, keeps a
// valid token through identity-provider outages, and backs off honouring
// Retry-After.
//
// See the examples of [NewCache] and [TokenSourceFunc].
//
// Every constructor of this repository (confluent, oauthclient and
// tokenfile in this module; the azure, aws, gcp and spiffe modules)
// returns an already cached source. Connect a source to a Kafka client
// with the adapters in the subpackages, each its own module, which keep
// each client's dependencies apart:
//   - [github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl]
//     for franz-go,
//   - [github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl]
//     for IBM/sarama,
//   - [github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl]
//     for segmentio/kafka-go,
//   - [github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka]
//     for confluent-kafka-go (librdkafka, cgo).
//
// When a Kafka client gives up waiting for a token, its error carries the
// source's most recent failure, or, when the first fetch has not ended,
// how long it has been running; a failure that waiting will not heal (an
// unreachable identity provider, bad configuration) is returned to every
// caller at once while the cache backs off. A broker's rejection is an
// [*RejectedError] in every adapter. The test bench in
// [github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest]
// stands up local identity providers and a broker that validates tokens.
//
// Tokens are secrets: a [Token] prints redacted through fmt, log/slog and
// encoding/json, and nothing in this module logs or returns one in an
// error.
package oauthbearer
