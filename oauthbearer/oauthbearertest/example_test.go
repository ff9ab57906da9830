package oauthbearertest_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// A Kafka broker that accepts only JWTs signed by a local issuer, used by
// a franz-go client with a token minted for the broker's audience.
func ExampleNewBroker() {
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"},
	})
	defer broker.Close()

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker.Addrs()...),
		kgo.SASL(oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			return oauth.Auth{Token: iss.Mint("svc-orders", "kafka", time.Hour, nil)}, nil
		})),
	)
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("hello")}).FirstErr(); err != nil {
		panic(err)
	}
	a := broker.Authentications()[0]
	fmt.Println(a.Accepted, a.Principal)
	// Output: true svc-orders
}

// The IMDS emulator speaks Azure's instance metadata protocol; its
// Client sends IMDS's fixed address to the emulator. An azure source takes
// it as ManagedIdentityOptions.HTTPClient (see the e2e tests); here the
// raw request.
func ExampleNewIMDS() {
	imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{
		SystemAssigned: oauthbearertest.ManagedIdentity{ObjectID: "4f1e2d3c-0000-4000-8000-00000000cafe"},
	})
	defer imds.Close()

	req, err := http.NewRequest(http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://kafka-example", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Metadata", "true")
	resp, err := imds.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	fmt.Println(imds.Requests()[0].Query.Get("resource"))
	// Output:
	// 200
	// api://kafka-example
}

// Confluent Cloud token exchange: a workload's OIDC token (here minted by
// a local Issuer) is exchanged at the emulator's TokenURL.
func ExampleNewConfluentSTS() {
	k8s := oauthbearertest.NewIssuer(nil)
	defer k8s.Close()
	sts := oauthbearertest.NewConfluentSTS(&oauthbearertest.ConfluentSTSOptions{
		Providers: []oauthbearertest.ConfluentIdentityProvider{{Issuer: k8s, Pools: []string{"pool-a1b2"}}},
	})
	defer sts.Close()

	subject := oauthbearer.StaticTokenSource(oauthbearer.Token{
		Value: k8s.Mint("system:serviceaccount:shop:orders", "confluent", time.Hour, nil), Expiry: time.Now().Add(time.Hour),
	})
	src, err := confluent.NewSTS(subject, &confluent.STSOptions{IdentityPoolID: "pool-a1b2", Endpoint: sts.TokenURL()})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	if _, err := src.Token(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(len(sts.Requests()), sts.Requests()[0].Status)
	// Output: 1 200
}

// A generic OAuth 2.0 client-credentials provider.
func ExampleNewOAuthServer() {
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	idp := oauthbearertest.NewOAuthServer(&oauthbearertest.OAuthServerOptions{
		Issuer:  iss,
		Clients: map[string]oauthbearertest.OAuthClient{"orders": {Secret: "s3cret"}},
	})
	defer idp.Close()

	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: idp.TokenURL(), ClientID: "orders", ClientSecret: oauthclient.Secret("s3cret"),
	})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	tok, err := src.Token(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Principal)
	for _, r := range idp.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// orders
	// POST /oauth2/token 200
}

// Every emulator shares one fault shape: here the next request is answered
// 503 with Retry-After, then the emulator serves normally again.
func ExampleServer_FailNext() {
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	iss.FailNext(1, oauthbearertest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: 2 * time.Second})
	for range 2 {
		resp, err := iss.Client().Get(iss.JWKSURL())
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d retry-after=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, r := range iss.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// 503 retry-after="2"
	// 200 retry-after=""
	// GET /.well-known/jwks.json 503
	// GET /.well-known/jwks.json 200
}

// Schema Registry with Confluent Cloud's bearer authentication: the
// schemaregistry package's client against the emulator's URL.
func ExampleNewSchemaRegistry() {
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	reg := oauthbearertest.NewSchemaRegistry(&oauthbearertest.SchemaRegistryOptions{
		Issuer: iss, LogicalCluster: "lsrc-1", IdentityPoolID: "pool-1",
	})
	defer reg.Close()

	tokens := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("svc", "sr", time.Hour, nil), Expiry: time.Now().Add(time.Hour)})
	hc, err := schemaregistry.NewHTTPClient(tokens, &schemaregistry.TransportOptions{
		LogicalCluster: "lsrc-1", IdentityPoolID: "pool-1", AllowInsecureHTTP: true,
	})
	if err != nil {
		panic(err)
	}
	resp, err := hc.Get(reg.URL + "/subjects")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}
