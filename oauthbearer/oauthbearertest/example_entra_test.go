package oauthbearertest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// AKS workload identity against the Entra emulator: three options of
// azure.WorkloadIdentityOptions redirect the source, with no Azure SDK
// import: AuthorityHost is the emulator's URL, HTTPClient its client
// (which trusts its certificate), and DisableInstanceDiscovery skips the
// request to the public cloud's discovery endpoint.
func ExampleNewEntra() {
	k8s := oauthbearertest.NewIssuer(nil) // the cluster's OIDC issuer
	defer k8s.Close()
	const tenant, client = "b52245db-4800-4792-975a-1d9ed49512f2", "da4ec9ae-b5c9-46be-96a2-077a500ad963"
	entra := oauthbearertest.NewEntra(&oauthbearertest.EntraOptions{Apps: []oauthbearertest.EntraApp{{
		TenantID: tenant, ClientID: client,
		Federated: []oauthbearertest.FederatedCredential{{Issuer: k8s.IssuerURL(), Subject: "system:serviceaccount:shop:orders"}},
	}}})
	defer entra.Close()

	// What the kubelet projects into the pod.
	dir, err := os.MkdirTemp("", "wi")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	tokenFile := filepath.Join(dir, "token")
	sa := k8s.Mint("system:serviceaccount:shop:orders", "api://AzureADTokenExchange", time.Hour, nil)
	if err := os.WriteFile(tokenFile, []byte(sa), 0o600); err != nil {
		panic(err)
	}

	src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
		Target: "api://kafka-example", TenantID: tenant, ClientID: client, TokenFilePath: tokenFile,
		AuthorityHost: entra.URL, HTTPClient: entra.Client(), DisableInstanceDiscovery: true,
	})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	if _, err := src.Token(context.Background()); err != nil {
		panic(err)
	}
	reqs := entra.Requests() // MSAL reads the tenant's discovery document, then asks for the token
	fmt.Println(reqs[len(reqs)-1].Status)
	// Output: 200
}
