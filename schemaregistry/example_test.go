package schemaregistry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// A franz-go Schema Registry client authenticated with a workload
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
	cl, err := sr.NewClient(sr.URLs("http://sr.internal.example"), sr.HTTPClient(hc))
	if err != nil {
		fmt.Println(err)
		return
	}
	// A token is never sent over plain http to a remote host.
	_, err = cl.Subjects(context.Background())
	fmt.Println(err != nil)
	// Output: true
}
