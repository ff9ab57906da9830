package idpclient_test

import (
	"crypto/tls"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
)

// A client that accepts TLS 1.3 only; pass it as any source's HTTPClient.
func ExampleNew() {
	hc, err := idpclient.New(&idpclient.Options{MinVersion: tls.VersionTLS13})
	fmt.Println(hc != nil, err)
	// Output: true <nil>
}
