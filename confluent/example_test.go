package confluent_test

import (
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/confluent"
)

func ExampleExtensions_Validate() {
	err := confluent.Extensions{LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool 7yzk"}.Validate()
	fmt.Println(err)
	// Output:
	// confluent: Extensions.IdentityPoolID is "pool 7yzk"; use an identity pool ID such as pool-7yzk, or several separated by commas without spaces
}
