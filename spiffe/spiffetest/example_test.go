package spiffetest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// A Workload API emulator on a unix socket, and the spiffe source pointed
// at it. A broker validating the SVIDs takes its keys from JWKSURL.
func ExampleNewWorkloadAPI() {
	agent := spiffetest.NewWorkloadAPI(&spiffetest.Options{Issuer: "https://spire.example.org"})
	defer agent.Close()

	src, err := spiffe.New(&spiffe.Options{Audience: "kafka", Address: agent.Addr()})
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
	fmt.Println(strings.HasPrefix(agent.Addr(), "unix://"), strings.HasPrefix(agent.JWKSURL(), "http://"), tok.Principal)
	// Output: true true spiffe://example.org/workload
}
