// Package kafkatest runs a real Apache Kafka broker for end-to-end tests.
//
// [Start] launches a single-node KRaft broker (combined broker and
// controller) from jars fetched by .ci/kafka-jars.sh, with one
// SASL_PLAINTEXT listener that accepts only OAUTHBEARER tokens and
// verifies them against a JWKS URL with Kafka's own
// OAuthBearerValidatorCallbackHandler, the same code a production broker
// runs. A second, unauthenticated PLAINTEXT listener serves as the
// inter-broker listener, the readiness probe and an admin back door.
//
// Why a real broker when kfake exists: kfake does not validate JWTs, and
// the behaviours this module depends on (signature, kid, iss, aud and exp
// checks, the session lifetime handed to clients, the connection close
// when a session outlives it, the {"status":"invalid_token"} challenge)
// live only in the broker. The jars are found under KWI_KAFKA_HOME
// (default $HOME/.cache/kafka-workload-identity/kafka); Java 17 or newer
// must be on PATH.
//
//	iss := idptest.NewIssuer(t, nil)
//	b := kafkatest.Start(t, kafkatest.Options{
//		JWKSURL:  iss.JWKSURL,
//		Issuer:   iss.IssuerURL,
//		Audience: "kafka",
//	})
//	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.SASL(mech))
//
// The tests that use it live in e2e/ behind the "e2e" build tag, so that
// go test ./... stays fast on machines without Java.
package kafkatest
