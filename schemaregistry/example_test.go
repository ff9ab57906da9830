package schemaregistry_test

import (
	"fmt"
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
