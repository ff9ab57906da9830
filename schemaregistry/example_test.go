package schemaregistry_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// A Schema Registry client authenticated with a workload
// identity's tokens. Here the token source is static; in production it is
// a cached source from the azure or aws package.
func ExampleNewHTTPClient() {
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "eyJ...", Expiry: time.Now().Add(time.Hour)})
	hc, err := schemaregistry.NewHTTPClient(src, &schemaregistry.TransportOptions{
		LogicalCluster: "lsrc-kjn9nv",
		IdentityPoolID: "pool-7yzk",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Give hc to any Schema Registry client: franz-go's
	// sr.NewClient(sr.URLs(url), sr.HTTPClient(hc)), confluent-kafka-go's
	// schemaregistry.Config.HTTPClient, or plain net/http as here. A token
	// is never sent over plain http to a remote host.
	_, err = hc.Get("http://sr.internal.example/subjects")
	fmt.Println(err != nil)
	// Output: true
}

// NewTransport authenticates every request with the source's token and
// adds Confluent Cloud's headers; it fits any HTTP client. The registry
// here is the test bench's Schema Registry, which verifies the token
// against its issuer's keys and requires both headers, as Confluent Cloud
// does.
func ExampleNewTransport() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	issuer := idptest.NewIssuer(t, nil)
	registry := idptest.NewSchemaRegistry(t, &idptest.SchemaRegistryOptions{
		Issuer: issuer, LogicalCluster: "lsrc-kjn9nv", IdentityPoolID: "pool-7yzk",
	})

	// In production: a cached source from the azure, aws or gcp package.
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: issuer.Mint("orders-svc", "", time.Hour, nil), Expiry: time.Now().Add(time.Hour)})
	rt, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{LogicalCluster: "lsrc-kjn9nv", IdentityPoolID: "pool-7yzk"})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := (&http.Client{Transport: rt}).Get(registry.URL + "/subjects")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, strings.TrimSpace(string(body)))
	r := registry.Requests()[0]
	fmt.Printf("the registry authorized %s %s for %s with %s=%s, %s=%s\n", r.Method, r.Path, r.Subject,
		schemaregistry.HeaderLogicalCluster, r.LogicalCluster, schemaregistry.HeaderIdentityPool, r.IdentityPoolID)
	// Output:
	// 200 OK []
	// the registry authorized GET /subjects for orders-svc with target-sr-cluster=lsrc-kjn9nv, Confluent-Identity-Pool-Id=pool-7yzk
}
