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
// Retry-After:
//
//	raw := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
//		// ask the identity provider
//	})
//	src, err := oauthbearer.NewCache(raw, &oauthbearer.CacheOptions{Name: "my idp", Logger: logger})
//	if err != nil { ... }
//	defer src.Close()
//
// The sources in this module's azure, aws and confluent packages come
// already cached. Connect a source to a Kafka client with the adapters in
// the subpackages, which keep each client's dependencies apart:
// [github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl]
// for franz-go and
// [github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl]
// for IBM/sarama. The test bench in
// [github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest]
// stands up local identity providers and a broker that validates tokens.
//
// Tokens are secrets: a [Token] prints redacted through fmt, log/slog and
// encoding/json, and nothing in this module logs or returns one in an
// error.
package oauthbearer
