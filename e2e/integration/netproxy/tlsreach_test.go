package netproxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// source is what every constructor returns.
type source interface {
	oauthbearer.TokenSource
	Close() error
}

// builder builds a source for the identity provider at origin
// (https://host:port), sending with hc (nil: the source's default
// client).
type builder func(t *testing.T, origin string, hc *http.Client) (source, error)

// reach is one source that calls an identity provider over https: setup
// starts the provider behind the bench's private CA and returns its
// origin and the source's builder. host is a name for the provider
// (httptest's certificate, which every TLS emulator presents, is valid
// for *.example.com), "" where the provider accepts only its own
// address (a jwt-bearer assertion names the token endpoint as built).
type reach struct {
	name  string
	host  string
	setup func(t *testing.T) (string, builder)
}

// reaches lists every source of the module that calls an HTTP identity
// provider with a client the caller can give. Not listed: the metadata
// sources (azure.NewManagedIdentity on IMDS, gcp with MetadataServer),
// which speak plain http to a link-local address; the schemaregistry
// transport, which calls no identity provider (its Base is the caller's
// transport to the registry); spiffe, whose Workload API is a unix
// socket; and clientprops, whose JAAS ssl.* and https.ca.* settings build
// the same idpclient transport (e2e/integration/oauthclient tests them).
var reaches = []reach{
	{"azure.NewWorkloadIdentity", "login.example.com", func(t *testing.T) (string, builder) {
		const tenant, client, sa = "9d2f0000-0000-4000-8000-0000000000a1", "9d2f0000-0000-4000-8000-0000000000c1", "system:serviceaccount:kafka:producer"
		k8s := idptest.NewIssuer(t, nil)
		e := idptest.NewEntra(t, &idptest.EntraOptions{Apps: []idptest.EntraApp{{TenantID: tenant, ClientID: client, ObjectID: "9d2f0000-0000-4000-8000-0000000000b1",
			Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: sa}}}}})
		file := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(file, []byte(k8s.Mint(sa, "api://AzureADTokenExchange", time.Hour, nil)), 0o600))
		return e.URL, func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: "api://kafka", ClientID: client, TenantID: tenant,
				TokenFilePath: file, AuthorityHost: origin, DisableInstanceDiscovery: true, HTTPClient: hc,
				Retry: policy.RetryOptions{MaxRetries: -1}})
		}
	}},
	{"aws.NewWebIdentity", "sts.example.com", func(t *testing.T) (string, builder) {
		// The STS emulator speaks plain http; a TLS front plays the
		// regional endpoint's https.
		return "https://" + tlsFront(t, idptest.NewSTS(t, &idptest.STSOptions{Region: "us-east-1"}).URL), func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Endpoint: origin, HTTPClient: hc,
				Config: &sdkaws.Config{Region: "us-east-1", RetryMaxAttempts: 1, Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "aws-secret", "")}})
		}
	}},
	{"gcp.NewManagedKafka (service-account key)", "oauth2.example.com", func(t *testing.T) (string, builder) {
		g := idptest.NewGCE(t, nil)
		key := g.ServiceAccountKeyJSON
		return "https://" + tlsFront(t, g.URL), func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{CredentialsJSON: tokenURI(t, key, origin), HTTPClient: hc})
		}
	}},
	{"gcp.NewIDToken (service-account key)", "oauth2.example.com", func(t *testing.T) (string, builder) {
		g := idptest.NewGCE(t, nil)
		key := g.ServiceAccountKeyJSON
		return "https://" + tlsFront(t, g.URL), func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: "kafka", CredentialsJSON: tokenURI(t, key, origin), HTTPClient: hc})
		}
	}},
	{"oauthclient.NewClientCredentials", "idp.example.com", func(t *testing.T) (string, builder) {
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), TLS: true,
			Clients: map[string]idptest.OAuthClient{"orders": {Secret: "orders-secret"}}})
		return s.URL, func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: origin + strings.TrimPrefix(s.TokenURL, s.URL),
				ClientID: "orders", ClientSecret: "orders-secret", HTTPClient: hc})
		}
	}},
	{"oauthclient.NewJWTBearer", "", func(t *testing.T) (string, builder) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), TLS: true,
			Clients: map[string]idptest.OAuthClient{"orders": {PublicKey: &key.PublicKey}}})
		return s.URL, func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: origin + strings.TrimPrefix(s.TokenURL, s.URL),
				Assertion: &oauthclient.AssertionOptions{Issuer: "orders", Subject: "orders", PrivateKey: key}, HTTPClient: hc})
		}
	}},
	{"confluent.NewSTS", "api.example.com", func(t *testing.T) (string, builder) {
		subj := idptest.NewIssuer(t, nil)
		s := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{TLS: true, Providers: []idptest.ConfluentIdentityProvider{{Issuer: subj, Pools: []string{"pool-a1b2"}}}})
		tok := subj.Mint("workload", "kafka", time.Hour, nil)
		return s.URL, func(t *testing.T, origin string, hc *http.Client) (source, error) {
			return confluent.NewSTS(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)}),
				&confluent.STSOptions{IdentityPoolID: "pool-a1b2", TokenURL: origin + strings.TrimPrefix(s.TokenURL, s.URL), HTTPClient: hc})
		}
	}},
}

// TestPrivateCAReachesEverySource gives each HTTP source an identity
// provider behind the bench's private CA: with the idpclient client that
// trusts the CA the source gets a token; with its default client, or an
// idpclient client trusting another CA, the fetch fails with an error
// that names the host and the setting that gives the roots; and on the
// idpclient client the credential gate still refuses a redirect.
func TestPrivateCAReachesEverySource(t *testing.T) {
	t.Parallel()
	trusting, err := idpclient.New(&idpclient.Options{RootCAPEM: benchCAPEM()})
	require.NoError(t, err)
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	require.NoError(t, os.WriteFile(otherCA, testpki.NewCA(t).PEM(), 0o600))
	wrong, err := idpclient.New(&idpclient.Options{RootCAFile: otherCA})
	require.NoError(t, err)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example.com/steal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	for _, r := range reaches {
		t.Run(r.name, func(t *testing.T) {
			origin, build := r.setup(t)
			host := strings.TrimPrefix(origin, "https://")

			src, err := build(t, origin, trusting)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			_, err = src.Token(ctx(t))
			require.NoError(t, err, "with the CA option")

			for name, c := range map[string]struct {
				hc      *http.Client
				setting string
			}{
				"default client":        {nil, "idpclient.Options.RootCAFile"},
				"idpclient, another CA": {wrong, "idpclient.Options.RootCAFile"},
			} {
				src, err := build(t, origin, c.hc)
				require.NoError(t, err, name)
				t.Cleanup(func() { _ = src.Close() })
				_, err = src.Token(ctx(t))
				require.Error(t, err, name)
				assert.Contains(t, err.Error(), host, "%s: the error names the host", name)
				assert.Contains(t, err.Error(), c.setting, "%s: the error names the setting", name)
				assert.Contains(t, err.Error(), "not trusted", name)
			}

			src, err = build(t, redirector.URL, trusting)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			_, err = src.Token(ctx(t))
			require.ErrorIs(t, err, oauthbearer.ErrRedirectRefused, "the gate holds on the idpclient client: %v", err)
			assert.NotContains(t, err.Error(), "/steal")
		})
	}
}

// tokenURI is the service-account key with its token_uri at origin.
func tokenURI(t *testing.T, key []byte, origin string) []byte {
	var m map[string]any
	require.NoError(t, json.Unmarshal(key, &m))
	u, err := url.Parse(m["token_uri"].(string))
	require.NoError(t, err)
	m["token_uri"] = origin + u.Path
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}
