// Package e2e holds end-to-end tests against a real Apache Kafka broker
// (see e2e/internal/kafkatest). They are behind the "e2e" build tag
// because they need Java and take seconds to minutes:
//
//	.ci/kafka-jars.sh                       # once: fetch the broker jars
//	.ci/spire.sh                            # once: build SPIRE (10-15 min cold)
//	go test -race -tags e2e ./e2e/...
//
// The e2e module also holds what drives several clients or clouds at once
// and so must not be a test dependency of a library module:
// e2e/integration/<package> (each library package's round trips through
// real clients and the in-process broker, the hot-path benchmark),
// e2e/internal/secrethygiene and e2e/internal/faultmatrix.
//
// TestRealBroker checks the harness itself with franz-go's built-in
// mechanism. TestRealBrokerSources runs, on one broker, every cloud
// source (Azure managed identity, Azure workload identity, AWS web
// identity, each against its test-bench emulator and with Confluent
// extensions) through both client libraries and this module's adapters,
// the six rejection cases, and a signing-key rotation under load.
// TestRealBrokerSoak runs producers and consumer groups of both libraries
// across many token refreshes and re-authentications, with a 20 s
// identity-provider outage halfway; its length is the
// KWI_SOAK_DURATION environment variable (a Go duration, default 1m;
// .ci/run sets 5m). TestRealSPIRE runs a real SPIRE server and agent
// issuing JWT-SVIDs to the test process, across rotations and an agent
// restart, validated by the broker through a JWKS made from SPIRE's bundle.
package e2e
