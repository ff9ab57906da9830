package spiffetest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// A Workload API emulator on a unix socket, reached with go-spiffe's own
// client as a workload reaches its SPIRE agent (the spiffe package's
// source does the same; see its example). A broker validating the SVIDs
// takes their keys from JWKSURL and their issuer from IssuerURL.
func ExampleNewWorkloadAPI() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: "https://spire.example.org"})

	ctx := context.Background()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(agent.Address))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	svid, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "kafka"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(svid.ID, svid.Audience, strings.HasPrefix(agent.JWKSURL, "http://127.0.0.1:"), agent.IssuerURL)
	// Output: spiffe://example.org/workload [kafka] true https://spire.example.org
}
