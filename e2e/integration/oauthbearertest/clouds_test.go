package oauthbearertest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// Azure managed identity against the IMDS emulator: the source's
// HTTPClient is the emulator's client, which sends IMDS's fixed address to
// the emulator.
func TestIMDSWithAzureManagedIdentity(t *testing.T) {
	t.Parallel()
	imds := idptest.NewIMDS(t, &idptest.IMDSOptions{
		SystemAssigned: idptest.ManagedIdentity{ObjectID: "4f1e2d3c-0000-4000-8000-00000000cafe"},
	})
	src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: "api://kafka-example", HTTPClient: imds.Client()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "4f1e2d3c-0000-4000-8000-00000000cafe", tok.Principal)
	assert.Equal(t, "api://kafka-example", imds.Requests()[0].Query.Get("resource"))
}

// AWS outbound identity federation against the STS emulator: the AWS
// SDK's BaseEndpoint is the emulator's URL.
func TestSTSWithAWSWebIdentity(t *testing.T) {
	t.Parallel()
	sts := idptest.NewSTS(t, &idptest.STSOptions{Region: "eu-west-1"})
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{
		Audience: []string{"kafka.example.com"},
		Config: &sdkaws.Config{
			Region:       "eu-west-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			BaseEndpoint: sdkaws.String(sts.URL),
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/kafka-workload", tok.Principal)
}

// AKS workload identity against the Entra emulator: three options of
// azure.WorkloadIdentityOptions redirect the source, with no Azure SDK
// import: AuthorityHost is the emulator's URL, HTTPClient its client
// (which trusts its certificate), and DisableInstanceDiscovery skips the
// request to the public cloud's discovery endpoint.
func TestEntraWithAzureWorkloadIdentity(t *testing.T) {
	t.Parallel()
	k8s := idptest.NewIssuer(t, nil) // the cluster's OIDC issuer
	const tenant, client = "b52245db-4800-4792-975a-1d9ed49512f2", "da4ec9ae-b5c9-46be-96a2-077a500ad963"
	entra := idptest.NewEntra(t, &idptest.EntraOptions{Apps: []idptest.EntraApp{{
		TenantID: tenant, ClientID: client,
		Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: "system:serviceaccount:shop:orders"}},
	}}})
	tokenFile := filepath.Join(t.TempDir(), "token") // what the kubelet projects into the pod
	sa := k8s.Mint("system:serviceaccount:shop:orders", "api://AzureADTokenExchange", time.Hour, nil)
	require.NoError(t, os.WriteFile(tokenFile, []byte(sa), 0o600))
	src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
		Audience: "api://kafka-example", TenantID: tenant, ClientID: client, TokenFilePath: tokenFile,
		AuthorityHost: entra.URL, HTTPClient: entra.Client(), DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	reqs := entra.Requests() // MSAL reads the tenant's discovery document, then asks for the token
	assert.Equal(t, 200, reqs[len(reqs)-1].Status)
}
