// Package oauthbearertest runs an in-process Kafka cluster for tests whose
// every listener demands SASL/OAUTHBEARER and validates the bearer JWTs as
// Apache Kafka 4.4's broker does, in the manner of net/http/httptest: real
// Kafka clients (franz-go, sarama, kafka-go, confluent-kafka-go) connect to
// [Broker.Addrs], authenticate, produce and consume, and the test reads
// what the broker decided with [Broker.Authentications].
//
// [NewBroker] starts the cluster on 127.0.0.1 and closes it when the test
// ends. The tokens come from the emulators of package
// github.com/streamidentity/kafka-workload-identity/idptest (an
// idptest.Issuer, Entra ID, Azure IMDS, AWS STS, the GCE metadata server,
// an OAuth server, Confluent Cloud's STS), which live in the library's
// root module: a module's tests can use them without requiring this one.
// This package is a module of its own because the cluster is franz-go's
// kfake; only tests that run a broker pay for it.
//
// The broker needs the keys that sign valid tokens and, as Kafka 4.4
// does, an expected audience and issuer: [BrokerOptions] Issuer (an
// idptest.Issuer supplies both JWKS and issuer), or JWKSURL and
// ExpectedIssuer from any other emulator; ExpectedAudience, or Kafka
// 4.4's opt-outs AllowUnverifiedAudience and AllowUnverifiedIssuer.
// BrokerOptions.GoogleAccessTokens adds Google Managed Service for Apache
// Kafka's wrapped access tokens, checked against an idptest.GCE, and
// BrokerOptions.Verdict plays provider-specific refusals.
//
// How closely the broker follows Kafka (the SASL exchange, each claim
// check, re-authentication, the startup rules), row by row with the source
// read, is in the repository's docs/conformance.md:
// https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/conformance.md.
// No kfake type is part of this package's API. The package does not
// import testing, so a program may run a broker too (NewBroker takes an
// idptest.TB, which a program can implement).
//
// In a test, t is the test's *testing.T (here with a franz-go client):
//
//	func TestOrders(t *testing.T) {
//		iss := idptest.NewIssuer(t, nil)
//		broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
//			Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"},
//		})
//		cl, err := kgo.NewClient(
//			kgo.SeedBrokers(broker.Addrs()...),
//			kgo.SASL(oauth.Oauth(func(context.Context) (oauth.Auth, error) {
//				return oauth.Auth{Token: iss.Mint("svc-orders", "kafka", time.Hour, nil)}, nil
//			})),
//		)
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer cl.Close()
//		rec := &kgo.Record{Topic: "orders", Value: []byte("hello")}
//		if err := cl.ProduceSync(t.Context(), rec).FirstErr(); err != nil {
//			t.Fatal(err)
//		}
//		if a := broker.Authentications()[0]; !a.Accepted || a.Principal != "svc-orders" {
//			t.Fatalf("authentication: accepted %v, principal %q", a.Accepted, a.Principal)
//		}
//	}
//
// The runnable examples pass a stand-in for t instead, since an Example
// function has none.
package oauthbearertest
