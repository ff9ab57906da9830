// Package clientprops reads a Kafka Java client.properties file (with its
// sasl.jaas.config) into a description of the connection and token source
// it configures, so that a Go service can take over a Java client's
// configuration unchanged: bootstrap servers, the SASL/OAUTHBEARER token
// source (kind plus the IDs and URLs as written), the Confluent
// extensions, the sasl.login.* refresh tuning as [oauthbearer.CacheOptions]
// (validated by the cache's own rules while parsing), the Schema Registry
// settings, and every other property for the caller.
//
// [Parse] and [ParseFile] only describe; nothing is contacted.
// [Config.NewSource] builds the kinds that need no cloud SDK (OAuth client
// credentials); azure.FromClientProperties builds every kind, the Azure
// ones included. Both contact only token endpoints on an allow-list
// ([BuildOptions.AllowedURLs] or the environment variable
// [AllowedURLsEnv], as Kafka's system property), and read the assertion,
// key and template files a file names only if they are on Kafka 4.4's
// allow-list of files ([BuildOptions.AllowedFiles] or [AllowedFilesEnv]).
// The token endpoint's TLS comes from the JAAS ssl.* options Kafka 4.4
// applies to it (PEM stores) or librdkafka's https.ca.location
// ([TLSSettings]).
//
// See the examples of [Parse]; azure.FromClientProperties takes the
// parsed [Config] and builds any kind.
//
// Errors start with "clientprops:", name the key and line, and never
// contain a secret; secret values print as "<redacted>" in every encoder.
package clientprops
