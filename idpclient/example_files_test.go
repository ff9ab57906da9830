package idpclient_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// An identity provider behind a private CA that asks for a client
// certificate: the CA is added to the system roots (and re-read when the
// file changes), and the certificate goes to the provider's host only.
func ExampleNew_privateCAAndMutualTLS() {
	dir := exampleFiles() // in a program: the files the platform mounts
	defer os.RemoveAll(dir)
	hc, err := idpclient.New(&idpclient.Options{
		RootCAFile: filepath.Join(dir, "corp-ca.pem"),
		CertFile:   filepath.Join(dir, "client.pem"), // certificate and key
		CertHosts:  []string{"idp.corp.example"},
	})
	if err != nil {
		panic(err)
	}
	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: "https://idp.corp.example/oauth2/token", ClientID: "orders", ClientSecret: "from-the-secret-store",
		HTTPClient: hc,
	})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	fmt.Println("ready")
	// Output: ready
}

// exampleFiles writes a private CA and a client certificate with its key
// to a new directory.
func exampleFiles() string {
	dir, err := os.MkdirTemp("", "idpclient-example")
	if err != nil {
		panic(err)
	}
	ca := testpki.NewCA(panicTB{})
	cert, key := ca.IssueClient(panicTB{}, "orders")
	for name, b := range map[string][]byte{"corp-ca.pem": ca.PEM(), "client.pem": append(cert, key...)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			panic(err)
		}
	}
	return dir
}

type panicTB struct{}

func (panicTB) Helper()                           {}
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
