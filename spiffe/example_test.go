package spiffe_test

import (
	"context"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// A JWT-SVID for the Kafka cluster's audience, from a Workload API (here
// the emulator; in production the SPIRE agent's socket, usually through
// SPIFFE_ENDPOINT_SOCKET).
func ExampleNew() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: "https://spire.example.org"})

	src, err := spiffe.New(&spiffe.Options{
		Audience: "kafka",       // the listener's expected.audience
		Address:  agent.Address, // default: SPIFFE_ENDPOINT_SOCKET
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close() // after the Kafka client

	tok, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Principal)
	// Output: spiffe://example.org/workload
}
