package confluent_test

import (
	"context"
	"fmt"
	"time"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func ExampleExtensions_Validate() {
	err := confluent.Extensions{LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool 7yzk"}.Validate()
	fmt.Println(err)
	// Output:
	// confluent: Extensions.IdentityPoolID is "pool 7yzk", not an identity pool ID list; use an identity pool ID such as pool-7yzk, or several separated by commas without spaces
}

// WithExtensions adds the SASL extensions Confluent Cloud reads beside the
// token: the Kafka cluster and the identity pool. In production the source
// is a cached source from the azure or aws package.
func ExampleWithExtensions() {
	idp := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)})
	src, err := confluent.WithExtensions(idp, confluent.Extensions{LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool-7yzk"})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Extensions[confluent.ExtensionLogicalCluster], tok.Extensions[confluent.ExtensionIdentityPoolID])
	// Output: lkc-w25n5g pool-7yzk
}

// NewSTS exchanges the workload's token (here a placeholder for a source
// from the azure package) at Confluent's STS for a token the Confluent
// Cloud APIs accept, cached and refreshed. (Compiled, not run: it needs
// Confluent Cloud.)
func ExampleNewSTS() {
	var workload oauthbearer.TokenSource // for example from azure.NewManagedIdentity
	ccloud, err := confluent.NewSTS(workload, &confluent.STSOptions{IdentityPoolID: "pool-7yzk"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ccloud.Close()
	tok, err := ccloud.Token(context.Background())
	if err != nil {
		fmt.Println(err) // names the endpoint, the pool and the fix; never a token
		return
	}
	fmt.Println(tok.Expiry)
}
