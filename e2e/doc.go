// Package e2e holds end-to-end tests against a real Apache Kafka broker
// (see internal/kafkatest). They are behind the "e2e" build tag because
// they need Java and take seconds to minutes:
//
//	.ci/kafka-jars.sh                       # once: fetch the broker jars
//	go test -race -tags e2e ./e2e/...
package e2e
