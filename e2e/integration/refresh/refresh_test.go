// Package refresh_test proves, for every source, that a refresh of the
// cache reaches the identity provider and brings a newly issued token,
// including the sources built on an SDK with a cache of its own
// (azidentity/MSAL, x/oauth2, the AWS SDK).
package refresh_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// source is one source under test: start (outside the bubble) starts its
// provider's emulator and returns build, which (inside the bubble) makes
// the source with an in-process HTTP client, and count, the requests the
// provider has answered with a token.
type source struct {
	name  string
	lives []time.Duration // the lifetimes the provider can issue
	start func(t *testing.T, life time.Duration) (build func(t *testing.T) *oauthbearer.Cache, count func() int)
}

const (
	tenant = "9d2f0000-0000-4000-8000-0000000000a1"
	client = "9d2f0000-0000-4000-8000-0000000000c1"
	sa     = "system:serviceaccount:kafka:producer"
)

var both = []time.Duration{time.Hour, 24 * time.Hour}

func target(life time.Duration) string {
	return fmt.Sprintf("api://refresh-%s-%d", life, time.Now().UnixNano()) // MSAL's cache is process-wide
}

// entra starts an Entra emulator with a federated credential for sa and
// returns what a workload-identity source needs; the federated token file
// is written inside the bubble (its JWT is minted on the fake clock).
//
// One exchange runs first, outside the bubble, so that the emulator has
// fetched the issuer's JWKS (over a socket, which would stop the bubble's
// clock); count starts after it.
func entra(t *testing.T, life time.Duration) (e *idptest.Entra, iss *idptest.Issuer, file string, count func() int) {
	iss = idptest.NewIssuer(t, nil)
	e = idptest.NewEntra(t, &idptest.EntraOptions{Lifetime: life, Apps: []idptest.EntraApp{{TenantID: tenant, ClientID: client,
		Federated: []idptest.FederatedCredential{{Issuer: iss.IssuerURL, Subject: sa}}}}})
	file = filepath.Join(t.TempDir(), "token")
	writeFederated(t, iss, file)
	warm, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: target(life), ClientID: client, TenantID: tenant,
		TokenFilePath: file, AuthorityHost: e.URL, DisableInstanceDiscovery: true, Getenv: func(string) string { return "" },
		HTTPClient: e.Client()})
	require.NoError(t, err)
	_, err = warm.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, warm.Close())
	base := len(e.Issued())
	return e, iss, file, func() int { return len(e.Issued()) - base }
}

func writeFederated(t *testing.T, iss *idptest.Issuer, file string) {
	require.NoError(t, os.WriteFile(file, []byte(iss.Mint(sa, "api://AzureADTokenExchange", 72*time.Hour, nil)), 0o600))
}

var sources = []source{
	{"azure managed identity", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		m := idptest.NewIMDS(t, &idptest.IMDSOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: target(life), HTTPClient: m.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(m.Issued()) }
	}},
	{"azure workload identity", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		e, iss, file, count := entra(t, life)
		return func(t *testing.T) *oauthbearer.Cache {
			writeFederated(t, iss, file)
			src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: target(life), ClientID: client, TenantID: tenant,
				TokenFilePath: file, AuthorityHost: e.URL, DisableInstanceDiscovery: true, Getenv: func(string) string { return "" },
				HTTPClient: e.InProcess()})
			require.NoError(t, err)
			return src
		}, count
	}},
	{"azure default chain (workload identity)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		e, iss, file, count := entra(t, life)
		env := map[string]string{azure.EnvClientID: client, azure.EnvTenantID: tenant, azure.EnvFederatedTokenFile: file, azure.EnvAuthorityHost: e.URL}
		return func(t *testing.T) *oauthbearer.Cache {
			writeFederated(t, iss, file)
			src, err := azure.NewDefaultChain(&azure.DefaultChainOptions{Audience: target(life), DisableInstanceDiscovery: true, DisableAzureCLI: true,
				Getenv: func(k string) string { return env[k] }, HTTPClient: e.InProcess()})
			require.NoError(t, err)
			return src
		}, count
	}},
	{"azure default chain (managed identity)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		m := idptest.NewIMDS(t, &idptest.IMDSOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := azure.NewDefaultChain(&azure.DefaultChainOptions{Audience: target(life), DisableAzureCLI: true,
				Getenv: func(string) string { return "" }, HTTPClient: m.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(m.Issued()) }
	}},
	{"aws web identity", []time.Duration{time.Hour}, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		s := idptest.NewSTS(t, &idptest.STSOptions{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}, Lifetime: life,
				Config: &sdkaws.Config{Region: s.Region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
					BaseEndpoint: sdkaws.String(s.URL), HTTPClient: s.InProcess()}})
			require.NoError(t, err)
			return src
		}, func() int { return len(s.Issued()) }
	}},
	{"aws msk iam (signed locally)", []time.Duration{15 * time.Minute}, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		// MSK's token is signed in process: its "provider" is the AWS
		// credentials provider, asked once per fetch (the default chain
		// caches credentials, not tokens). Tokens live at most 15 minutes.
		var retrieved atomic.Int64
		creds := sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
			retrieved.Add(1)
			return sdkaws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}, nil
		})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := awsid.NewMSK(context.Background(), &awsid.MSKOptions{Lifetime: life, Config: &sdkaws.Config{Region: "eu-west-1", Credentials: creds}})
			require.NoError(t, err)
			return src
		}, func() int { return int(retrieved.Load()) }
	}},
	{"gcp managed kafka (metadata server)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		g := idptest.NewGCE(t, &idptest.GCEOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{MetadataServer: true, HTTPClient: g.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(g.Issued()) }
	}},
	{"gcp managed kafka (service account key, x/oauth2)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		g := idptest.NewGCE(t, &idptest.GCEOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{CredentialsJSON: g.ServiceAccountKeyJSON, HTTPClient: g.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(g.Issued()) }
	}},
	{"gcp id token (metadata server)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		g := idptest.NewGCE(t, &idptest.GCEOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: "kafka", MetadataServer: true, HTTPClient: g.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(g.Issued()) }
	}},
	{"gcp id token (service account key, x/oauth2)", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		g := idptest.NewGCE(t, &idptest.GCEOptions{Lifetime: life})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: "kafka", CredentialsJSON: g.ServiceAccountKeyJSON, HTTPClient: g.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(g.Issued()) }
	}},
	{"oauth client credentials", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), Lifetime: life,
			Clients: map[string]idptest.OAuthClient{"client-1": {Secret: "s3cr3t-value-for-the-refresh"}}})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: s.TokenURL, ClientID: "client-1",
				ClientSecret: "s3cr3t-value-for-the-refresh", HTTPClient: s.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(s.Issued()) }
	}},
	{"oauth jwt-bearer", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: idptest.NewIssuer(t, nil), Lifetime: life,
			Clients: map[string]idptest.OAuthClient{"svc-1": {PublicKey: &key.PublicKey}}})
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: s.TokenURL,
				Assertion: &oauthclient.AssertionOptions{PrivateKey: key, Issuer: "svc-1", Subject: "svc-1"}, HTTPClient: s.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(s.Issued()) }
	}},
	{"confluent sts", both, func(t *testing.T, life time.Duration) (func(*testing.T) *oauthbearer.Cache, func() int) {
		iss := idptest.NewIssuer(t, nil)
		s := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{Signer: iss,
			Providers: []idptest.ConfluentIdentityProvider{{Issuer: iss, ExpectedAudience: "app-1", Pools: []string{"pool-7yzk"}}}})
		subject := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
			return oauthbearer.Token{Value: iss.Mint("workload-1", "app-1", time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
		})
		// One exchange outside the bubble: the emulator fetches the
		// issuer's JWKS over a socket, which would stop the bubble's clock.
		warm, err := confluent.NewSTS(subject, &confluent.STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: s.TokenURL, HTTPClient: s.Client()})
		require.NoError(t, err)
		_, err = warm.Token(context.Background())
		require.NoError(t, err)
		require.NoError(t, warm.Close())
		base := len(s.Issued())
		return func(t *testing.T) *oauthbearer.Cache {
			src, err := confluent.NewSTS(subject, &confluent.STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: s.TokenURL,
				Lifetime: life, HTTPClient: s.InProcess()})
			require.NoError(t, err)
			return src
		}, func() int { return len(s.Issued()) - base }
	}},
}

// TestRefreshReachesProvider: for every source, at a 1-hour and (where
// the provider issues it) a 24-hour lifetime, the provider receives a
// request at each of the cache's refresh points and the cache then holds
// the newly issued token. testing/synctest's fake clock drives the cache,
// the SDKs (azcore, MSAL, the AWS SDK, x/oauth2) and the emulators.
//
// Fails on main for Azure managed identity (MSAL's process-wide cache
// handed back the same token until five minutes before expiry) and for
// the default chain's managed-identity step (the same cache).
func TestRefreshReachesProvider(t *testing.T) {
	for _, s := range sources {
		for _, life := range s.lives {
			t.Run(fmt.Sprintf("%s/%s", s.name, life), func(t *testing.T) {
				build, count := s.start(t, life)
				synctest.Test(t, func(t *testing.T) {
					src := build(t)
					defer src.Close()
					assertRefreshes(t, src, life, count)
				})
			})
		}
	}
}

// TestTokenFileRefreshRereadsTheFile: a token file's "provider" is the
// file; at the refresh point the cache reads it again and holds the token
// written there since.
func TestTokenFileRefreshRereadsTheFile(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	file := filepath.Join(t.TempDir(), "token")
	for _, life := range both {
		t.Run(life.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				write := func() string {
					tok := iss.Mint(sa, "kafka", life, nil)
					require.NoError(t, os.WriteFile(file, []byte(tok), 0o600))
					return tok
				}
				write()
				src, err := tokenfile.New(&tokenfile.Options{Path: file})
				require.NoError(t, err)
				defer src.Close()
				writes := 1
				assertRefreshes(t, src, life, func() int { return writes }, func() { write(); writes++ })
			})
		})
	}
}

// assertRefreshes runs inside a synctest bubble. The first token's refresh
// point is spread over [20%, 82%] of its life: by 83% the provider has had
// a second request and the cache holds its token. That token refreshes at
// 80% ±2% of its life: no request before 77%, the third by 83%. Each
// refresh brings a newly issued token. rotate, if given, makes the
// provider ready to issue a new token (a file rewritten) just before.
func assertRefreshes(t *testing.T, src *oauthbearer.Cache, life time.Duration, count func() int, rotate ...func()) {
	t.Helper()
	next := func() {
		for _, r := range rotate {
			r()
		}
	}
	first, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, count())
	time.Sleep(life / 10)
	next()
	time.Sleep(life * 73 / 100)
	synctest.Wait()
	require.Equal(t, 2, count(), "the first (spread) refresh reached the provider")
	second, err := src.Token(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, first.Value, second.Value, "the cache holds a newly issued token")
	fetched := second.Expiry.Add(-life)

	time.Sleep(time.Until(fetched.Add(life * 77 / 100)))
	synctest.Wait()
	assert.Equal(t, 2, count(), "no request before the refresh point")
	next()
	time.Sleep(life * 6 / 100) // 83%
	synctest.Wait()
	assert.Equal(t, 3, count(), "the refresh at 80%% of a %s life reached the provider", life)
	third, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, second.Value, third.Value, "the cache holds a newly issued token")
	assert.True(t, third.Expiry.After(second.Expiry))
}
