// Package entrypoints holds the table test that every way of configuring
// the library (code options, client.properties, each Kafka client adapter,
// the Schema Registry) rejects the same invalid values with the same error
// type and applies the same defaults. It lives in the e2e module because
// the adapters are separate modules; it needs no broker.
package entrypoints
