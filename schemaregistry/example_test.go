package schemaregistry_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

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
// here is a local stand-in that prints what it receives.
func ExampleNewTransport() {
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		fmt.Printf("registry got %s %s with a %s token, %s=%s, %s=%s\n", r.Method, r.URL.Path, scheme,
			schemaregistry.HeaderLogicalCluster, r.Header.Get(schemaregistry.HeaderLogicalCluster),
			schemaregistry.HeaderIdentityPool, r.Header.Get(schemaregistry.HeaderIdentityPool))
		_, _ = io.WriteString(w, `["orders-value"]`)
	}))
	defer registry.Close()

	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)})
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
	fmt.Println(resp.Status, string(body))
	// Output:
	// registry got GET /subjects with a Bearer token, target-sr-cluster=lsrc-kjn9nv, Confluent-Identity-Pool-Id=pool-7yzk
	// 200 OK ["orders-value"]
}
