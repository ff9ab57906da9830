package azure_test

import (
	"context"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// A managed identity against the IMDS emulator, offline. On an Azure VM
// or AKS node, leave ClientOptions empty.
func ExampleNewManagedIdentity() {
	imds, err := oauthbearertest.StartIMDS(&oauthbearertest.IMDSOptions{
		SystemAssigned: oauthbearertest.ManagedIdentity{ObjectID: "4f1e2d3c-0000-4000-8000-00000000cafe"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer imds.Close()

	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Target:     "api://kafka-example", // the Kafka App Registration
		RequireV2:  true,
		HTTPClient: imds.Client(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()

	tok, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, _ := azure.Diagnose(tok.Value)
	fmt.Println("principal:", tok.Principal)
	fmt.Println("version:", rep.Version, "audience:", rep.Audience)
	// Output:
	// principal: 4f1e2d3c-0000-4000-8000-00000000cafe
	// version: 2.0 audience: api://kafka-example
}
