package azure_test

import (
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/azure"
)

// A managed identity on an Azure VM or AKS node. To run it offline, give
// HTTPClient the Client of an idptest.NewIMDS emulator.
func ExampleNewManagedIdentity() {
	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience:  "api://kafka-example", // the Kafka App Registration
		RequireV2: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	// Hand src to franzsasl.Mechanism or saramasasl.NewTokenProvider;
	// azure.Diagnose(tok.Value) explains a token the broker refuses.
}
