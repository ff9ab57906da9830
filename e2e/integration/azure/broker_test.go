package azure_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// azureIdentity is one Azure token source wired to emulators whose tokens
// are signed by the issuer the broker trusts.
type azureIdentity struct {
	src       *oauthbearer.Cache
	audience  string     // the broker's expected.audience: the API's application ID, as v2 tokens carry it
	issuer    string     // the broker's expected.issuer: the tokens' iss
	principal string     // the token's sub: the identity's object ID
	fetches   func() int // tokens the identity provider issued
}

// The AKS workload identity: an App Registration trusting a Kubernetes
// service account.
const (
	wiTenant = "9d2f0000-0000-4000-8000-0000000000a1"
	wiClient = "9d2f0000-0000-4000-8000-0000000000c1"
	wiObject = "9d2f0000-0000-4000-8000-0000000000b1"
	wiSA     = "system:serviceaccount:kafka:producer"
)

// targetSeq numbers the managed identity's audiences: azidentity caches
// managed-identity tokens process-wide by resource, so each test asks for
// an audience of its own to get its tokens from its own IMDS.
var targetSeq atomic.Int64

// azureSources start each identity the issue names: managed identity
// through the IMDS emulator and AKS workload identity through the Entra
// emulator with a federated token file.
func azureSources() map[string]func(t *testing.T, iss *idptest.Issuer) azureIdentity {
	return map[string]func(t *testing.T, iss *idptest.Issuer) azureIdentity{
		"managed identity": func(t *testing.T, iss *idptest.Issuer) azureIdentity {
			imds := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: iss, Lifetime: time.Hour})
			target := fmt.Sprintf("api://kafka-%d", targetSeq.Add(1))
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
				Audience: target, RequireV2: true, HTTPClient: imds.Client(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return azureIdentity{src: src, audience: imds.AppID(target), issuer: iss.IssuerURL, principal: imds.SystemAssigned.ObjectID,
				fetches: func() int { return len(imds.Issued()) }}
		},
		"workload identity": func(t *testing.T, iss *idptest.Issuer) azureIdentity {
			k8s := idptest.NewIssuer(t, nil)
			entra := idptest.NewEntra(t, &idptest.EntraOptions{Signer: iss, Apps: []idptest.EntraApp{{TenantID: wiTenant, ClientID: wiClient, ObjectID: wiObject,
				Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: wiSA}}}}})
			file := filepath.Join(t.TempDir(), "token")
			require.NoError(t, os.WriteFile(file, []byte(k8s.Mint(wiSA, "api://AzureADTokenExchange", time.Hour, nil)), 0o600))
			src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
				Audience: "api://kafka", ClientID: wiClient, TenantID: wiTenant, TokenFilePath: file, AuthorityHost: entra.URL,
				DisableInstanceDiscovery: true, RequireV2: true, HTTPClient: entra.Client(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return azureIdentity{src: src, audience: entra.AppID(wiTenant, "api://kafka"), issuer: entra.IssuerURL(wiTenant), principal: wiObject,
				fetches: func() int { return len(entra.Issued()) }}
		},
	}
}

// TestAzureSourcesThroughBroker has franz-go and sarama produce and consume
// through a broker that validates every token against the JWKS of the
// issuer standing in for Microsoft Entra ID, with each Azure source, with
// and without Confluent Cloud's extensions.
func TestAzureSourcesThroughBroker(t *testing.T) {
	t.Parallel()
	extensionCases := map[string]*confluent.Extensions{
		"confluent extensions": {LogicalCluster: "lkc-w25n5g", IdentityPoolID: "pool-7yzk"},
		"no extensions":        nil,
	}
	for srcName, start := range azureSources() {
		for clientName, roundTrip := range clienttest.Clients() {
			for extName, ext := range extensionCases {
				t.Run(fmt.Sprintf("%s/%s/%s", srcName, clientName, extName), func(t *testing.T) {
					t.Parallel()
					iss := idptest.NewIssuer(t, nil)
					id := start(t, iss)
					broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
						JWKSURL: iss.JWKSURL, ExpectedIssuer: id.issuer, ExpectedAudience: id.audience,
						Topics: []string{"orders"}, NumBrokers: 2,
					})

					var src oauthbearer.TokenSource = id.src
					want := map[string]string{}
					if ext != nil {
						withExt, err := confluent.WithExtensions(id.src, *ext)
						require.NoError(t, err)
						src, want = withExt, ext.Map()
					}

					roundTrip(t, broker.Addrs(), "orders", src, "a", "b", "c")

					auths := broker.Authentications()
					require.NotEmpty(t, auths)
					for _, a := range auths {
						require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
						assert.Equal(t, id.principal, a.Principal)
						assert.Equal(t, want, a.Extensions)
						assert.Equal(t, "2.0", a.Claims["ver"], "Confluent Cloud needs v2 tokens")
					}
					assert.Equal(t, 1, id.fetches(), "every connection shares one token")
				})
			}
		}
	}
}
