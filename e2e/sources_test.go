//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

const (
	// sourceAudience is the "aud" of every token in TestRealBrokerSources:
	// an api:// application ID URI, which the Azure sources take as a
	// Audience as is and AWS STS accepts as an audience.
	sourceAudience = "api://kafka-e2e"
	// sourceAppID is the application (client) ID of the API whose App ID
	// URI is sourceAudience: Entra v2 tokens requested for the URI carry
	// it in "aud", so the listener expects both (expected.audience is a
	// list).
	sourceAppID = "5e2e0000-0000-4000-8000-0000000000d1"

	awsKey    = "AKIDEXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	awsRole   = "arn:aws:iam::111122223333:role/kafka-e2e"

	wiTenant = "5e2e0000-0000-4000-8000-0000000000a1"
	wiClient = "5e2e0000-0000-4000-8000-0000000000c1"
	wiObject = "5e2e0000-0000-4000-8000-0000000000b1"
	wiSA     = "system:serviceaccount:kafka:e2e"
)

// confluentExt are Confluent Cloud's extensions, sent with every token:
// Apache Kafka's validator accepts and ignores them.
var confluentExt = confluent.Extensions{LogicalCluster: "lkc-e2e01", IdentityPoolID: "pool-E2e1"}

// trustRoot is the one identity a broker's listener trusts. A Kafka
// listener verifies tokens against a single JWKS URL and expected issuer,
// and the STS emulator's issuer cannot be swapped, so its RS256 issuer
// also signs for the IMDS and Entra emulators: every source's tokens then
// verify against STS.JWKSURL with iss STS.IssuerURL.
type trustRoot struct {
	sts  *idptest.STS
	root *idptest.Issuer
}

func newTrustRoot(t *testing.T) trustRoot {
	t.Helper()
	sts := idptest.NewSTS(t, &idptest.STSOptions{AccessKeyID: awsKey, SecretAccessKey: awsSecret, RoleARN: awsRole})
	return trustRoot{sts: sts, root: sts.Issuer("RS256")}
}

func (r trustRoot) startBroker(t *testing.T, opts kafkatest.Options) *kafkatest.Broker {
	t.Helper()
	opts.JWKSURL = r.sts.JWKSURL
	if opts.Issuer == "" {
		opts.Issuer = r.sts.IssuerURL
	}
	opts.Audience = sourceAudience + "," + sourceAppID
	b := kafkatest.Start(t, opts)
	report(t, "broker start: Kafka %s ready in %v (storage format %v)", b.Version, b.StartupTime.Round(time.Millisecond), b.FormatTime.Round(time.Millisecond))
	return b
}

// awsWebIdentity is the AWS web identity source against the STS emulator,
// with static credentials.
func (r trustRoot) awsWebIdentity(t *testing.T, duration time.Duration, cache *oauthbearer.CacheOptions) *oauthbearer.Cache {
	t.Helper()
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{
		Audience: []string{sourceAudience},
		Lifetime: duration,
		Config: &sdkaws.Config{
			Region:       r.sts.Region,
			Credentials:  credentials.NewStaticCredentialsProvider(awsKey, awsSecret, ""),
			BaseEndpoint: sdkaws.String(r.sts.URL),
			HTTPClient:   r.sts.Client(),
		},
		Cache: cache,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// TestRealBrokerSources runs every cloud source and both client
// libraries, the rejections and a key rotation against one broker, since
// each broker costs a JVM start.
func TestRealBrokerSources(t *testing.T) {
	tr := newTrustRoot(t)
	b := tr.startBroker(t, kafkatest.Options{ExtraProperties: map[string]string{
		// The broker rereads the JWKS every 2 s (default 1 h), so a key
		// published by a rotation is known before tokens signed with it
		// arrive, as with a real issuer that publishes keys ahead of use.
		// With the default, the first token signed with the new key is
		// refused while the broker refetches: franz-go recovers unseen
		// (the adapter invalidates it and the next attempt succeeds), but
		// sarama's consumer group hands the failed re-authentication to
		// the application.
		"listener.name.client.oauthbearer.sasl.oauthbearer.jwks.endpoint.refresh.ms": "2000",
	}})

	appIDs := map[string]string{sourceAudience: sourceAppID}
	imds := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: tr.root, AppIDs: appIDs})
	k8s := idptest.NewIssuer(t, nil)
	entra := idptest.NewEntra(t, &idptest.EntraOptions{Signer: tr.root, AppIDs: appIDs, Apps: []idptest.EntraApp{{
		TenantID: wiTenant, ClientID: wiClient, ObjectID: wiObject,
		Federated: []idptest.FederatedCredential{{Issuer: k8s.IssuerURL, Subject: wiSA}},
	}}})
	// Entra's v2 tokens carry the tenant's issuer, which no other source
	// shares, and a listener has one expected.issuer: workload identity
	// gets a broker of its own, as it would in production.
	wiBroker := tr.startBroker(t, kafkatest.Options{Issuer: entra.IssuerURL(wiTenant)})
	tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(k8s.Mint(wiSA, "api://AzureADTokenExchange", time.Hour, nil)), 0o600))

	// Self-managed clusters often use an OIDC IdP's client credentials
	// grant (Kafka's own OAuthBearerLoginCallbackHandler); teams migrating
	// from Java bring that as a client.properties file.
	const ccClient, ccSecret = "kafka-e2e-app", "e2e-client-secret-0123456789"
	oauth := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer: tr.root, Audience: sourceAudience,
		Clients: map[string]idptest.OAuthClient{ccClient: {Secret: ccSecret, Scopes: []string{"kafka"}}},
	})
	properties := fmt.Sprintf(`bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=%s
sasl.oauthbearer.token.endpoint.url=%s
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId='%s' clientSecret='%s' scope='kafka' \
    extension_logicalCluster='%s' extension_identityPoolId='%s';
`, b.Addr, "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler", oauth.TokenURL, ccClient, ccSecret, confluentExt.LogicalCluster, confluentExt.IdentityPoolID)

	sources := []struct {
		name      string
		principal string
		new       func(t *testing.T) oauthbearer.TokenSource
		// broker, if set, is the source's own broker (default b).
		broker *kafkatest.Broker
		// carriesExt marks a source that brings its own extensions (a
		// client.properties file's extension_* options).
		carriesExt bool
	}{
		{"AzureManagedIdentity", imds.SystemAssigned.ObjectID, func(t *testing.T) oauthbearer.TokenSource {
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
				Audience:   sourceAudience,
				HTTPClient: imds.Client(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return src
		}, nil, false},
		{"AzureWorkloadIdentity", wiObject, func(t *testing.T) oauthbearer.TokenSource {
			src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{
				Audience: sourceAudience, ClientID: wiClient, TenantID: wiTenant, TokenFilePath: tokenFile,
				AuthorityHost: entra.URL, DisableInstanceDiscovery: true,
				Getenv:     func(string) string { return "" },
				HTTPClient: entra.Client(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return src
		}, wiBroker, false},
		{"AWSWebIdentity", awsRole, func(t *testing.T) oauthbearer.TokenSource {
			return tr.awsWebIdentity(t, 5*time.Minute, nil)
		}, nil, false},
		{"OAuthClientCredentials", ccClient, func(t *testing.T) oauthbearer.TokenSource {
			src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
				TokenURL: oauth.TokenURL, ClientID: ccClient, ClientSecret: ccSecret, Scope: "kafka",
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return src
		}, nil, false},
		{"JavaClientProperties", ccClient, func(t *testing.T) oauthbearer.TokenSource {
			cfg, err := clientprops.Parse(strings.NewReader(properties))
			require.NoError(t, err)
			require.Equal(t, []string{b.Addr}, cfg.BootstrapServers)
			// The file's token endpoint must be on the allow-list, as for a
			// Kafka 4 Java client.
			src, err := cfg.NewSource(&clientprops.BuildOptions{AllowedURLs: []string{oauth.TokenURL}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return src
		}, nil, true},
	}
	for _, s := range sources {
		for _, c := range produceConsumeClients {
			t.Run("ProduceConsume/"+s.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				defer cancel()
				src := s.new(t)
				if !s.carriesExt {
					var err error
					src, err = confluent.WithExtensions(src, confluentExt)
					require.NoError(t, err)
				}
				counted := newCountingSource(src)
				b := b
				if s.broker != nil {
					b = s.broker
				}
				mark := b.LogMark()
				topic := strings.ToLower("e2e-" + s.name + "-" + c.name)
				c.run(ctx, t, b, counted, topic, 5)

				// The broker took the principal from the source's "sub".
				line, err := b.WaitForLog(ctx, mark, "Successfully authenticate User="+s.principal)
				require.NoError(t, err)
				t.Logf("broker: %s", line)
				assert.Zero(t, failedAuths(b, mark), "no authentication failed")
				assert.Equal(t, confluentExt.Map(), counted.extensions(), "the adapter got the Confluent extensions")
				assert.Zero(t, counted.errs.Load())
				t.Logf("%s via %s: %d authentications", s.name, c.name, counted.calls.Load())
			})
		}
	}

	t.Run("Rejects", func(t *testing.T) { testRejections(t, b, tr.root) })
	t.Run("KeyRotation", func(t *testing.T) { testKeyRotation(t, b, tr.root) })
}

// slowClock is a client clock running behind the broker's.
type slowClock struct{ behind time.Duration }

func (c slowClock) Now() time.Time { return time.Now().Add(-c.behind) }
func (slowClock) AfterFunc(d time.Duration, f func()) oauthbearer.Timer {
	return time.AfterFunc(d, f)
}

// testRejections presents, through this module's adapters, tokens that
// would pass every check but one. The client must fail at once with an
// *oauthbearer.RejectedError, and the adapter must invalidate the
// rejected token so that the next attempt fetches a fresh (good) one.
func testRejections(t *testing.T, b *kafkatest.Broker, root *idptest.Issuer) {
	forger, stranger := kafkatest.Impostors(t, root)
	cases := []struct {
		name    string
		token   func() string
		wantLog string
		// clockBehind sets the client's clock that much behind the
		// broker's: the cache refuses a token already expired on its own
		// clock, so only a slow client clock gets one to the broker.
		clockBehind time.Duration
	}{
		{"ForgedSignature", func() string { return forger.Sign(claims(root, "svc-forged", sourceAudience, 10*time.Minute)) },
			"JWT rejected due to invalid signature", 0},
		{"UnknownKid", func() string {
			return stranger.Sign(claims(root, "svc-unknown-kid", sourceAudience, 10*time.Minute))
		},
			"Unable to find a suitable verification key for JWS", 0},
		{"WrongAudience", func() string { return root.Mint("svc-wrong-aud", "not-kafka", 10*time.Minute, nil) },
			"Audience (aud) claim [not-kafka] doesn't contain an acceptable identifier", 0},
		{"WrongIssuer", func() string {
			return root.Mint("svc-wrong-iss", sourceAudience, 10*time.Minute, map[string]any{"iss": "https://evil.example"})
		}, "Issuer (iss) claim value (https://evil.example) doesn't match expected value", 0},
		{"Expired", func() string { return root.Mint("svc-expired", sourceAudience, -2*time.Minute, nil) },
			"The JWT is no longer valid", 5 * time.Minute},
		{"NoSubject", func() string {
			return root.Mint("", sourceAudience, 10*time.Minute, map[string]any{"sub": nil})
		}, "sub value must be non-null", 0},
	}
	for _, tc := range cases {
		// badFirst hands out the bad token on its first call and good
		// tokens after that, under a Cache as every source of this module
		// is.
		badFirst := func(t *testing.T) (*oauthbearer.Cache, *atomic.Int64) {
			var calls atomic.Int64
			raw := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
				v := root.Mint("svc-good", sourceAudience, 10*time.Minute, nil)
				if calls.Add(1) == 1 {
					v = tc.token()
				}
				return oauthbearer.Token{Value: v, Expiry: time.Now().Add(10 * time.Minute)}, nil
			})
			co := &oauthbearer.CacheOptions{Name: "e2e " + tc.name}
			if tc.clockBehind != 0 {
				co.Clock = slowClock{tc.clockBehind}
			}
			c, err := oauthbearer.NewCache(raw, co)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			return c, &calls
		}
		checkLog := func(ctx context.Context, t *testing.T, mark int64) {
			lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			line, err := b.WaitForLog(lctx, mark, tc.wantLog)
			require.NoError(t, err, "the broker rejected the token for another reason")
			t.Logf("broker: %s", line)
		}

		t.Run(tc.name+"/franz-go", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			src, calls := badFirst(t)
			mark := b.LogMark()
			cl := newClient(t, b, must(franzsasl.Mechanism(src, nil)))

			_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			require.NoError(t, ctx.Err(), "the client should fail fast, not time out")
			var rej *oauthbearer.RejectedError
			require.ErrorAs(t, err, &rej, "got %v", err)
			assert.Equal(t, "invalid_token", rej.Status)
			t.Logf("franz-go: %v", err)
			assert.EqualValues(t, 1, calls.Load(), "one token was fetched for the rejected attempt")
			checkLog(ctx, t, mark)

			// The adapter invalidated the rejected token: the next
			// connection fetches a fresh one, and it is accepted.
			_, err = kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			require.NoError(t, err)
			assert.EqualValues(t, 2, calls.Load(), "the next attempt fetched a fresh token")
		})

		t.Run(tc.name+"/sarama", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			src, calls := badFirst(t)
			mark := b.LogMark()
			p := must(saramasasl.NewTokenProvider(src, nil))

			cl, err := sarama.NewClient([]string{b.Addr}, saramaConfig(p))
			if cl != nil {
				_ = cl.Close()
			}
			err = p.Explain(err)
			var rej *oauthbearer.RejectedError
			require.ErrorAs(t, err, &rej, "got %v", err)
			t.Logf("sarama: %v", err)
			assert.EqualValues(t, 1, calls.Load(), "one token was fetched for the rejected attempt")
			checkLog(ctx, t, mark)

			cl, err = sarama.NewClient([]string{b.Addr}, saramaConfig(p))
			require.NoError(t, p.Explain(err))
			require.NoError(t, cl.Close())
			assert.EqualValues(t, 2, calls.Load(), "the next attempt fetched a fresh token")
		})
	}
}

// testKeyRotation rotates the issuer's signing key while a franz-go and a
// sarama producer/consumer pair run. Tokens live 20 s and are refreshed
// at half-life, and the broker caps each session at the token's remaining
// life, so within the run every connection re-authenticates with a token
// signed by the new key. No error may reach either application.
func testKeyRotation(t *testing.T, b *kafkatest.Broker, root *idptest.Issuer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ttl = 20 * time.Second
	refreshed := make(chan oauthbearer.RefreshEvent, 64)
	raw := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: root.Mint("svc-rotation", sourceAudience, ttl, nil), Expiry: time.Now().Add(ttl)}, nil
	})
	cache, err := oauthbearer.NewCache(raw, &oauthbearer.CacheOptions{Name: "e2e rotation", RefreshFraction: 0.5,
		OnRefresh: func(e oauthbearer.RefreshEvent) { refreshed <- e }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	src, err := confluent.WithExtensions(cache, confluentExt)
	require.NoError(t, err)

	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), "e2e-rotation-franz", 2)
	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), "e2e-rotation-sarama", 2)
	oldKid := kafkatest.KeyID(t, root.Mint("x", "y", time.Hour, nil))
	fp, fc := newCountingSource(src), newCountingSource(src)
	sp, sc := newCountingSource(src), newCountingSource(src)
	franz := startFranzPair(t, b, fp, fc, "e2e-rotation-franz", 50*time.Millisecond)
	sar := startSaramaPair(t, b, sp, sc, "e2e-rotation-sarama", 50*time.Millisecond)

	var first oauthbearer.RefreshEvent
	select {
	case first = <-refreshed:
		require.NoError(t, first.Err)
	case <-ctx.Done():
		t.Fatal("no token was fetched")
	}
	time.Sleep(time.Second) // the clients are running on old-key tokens
	mark := b.LogMark()
	require.NoError(t, root.Rotate(false))
	newKid := kafkatest.KeyID(t, root.Mint("x", "y", time.Hour, nil))
	require.NotEqual(t, oldKid, newKid)
	t.Logf("rotated the signing key from %s to %s", oldKid, newKid)

	// Sessions opened with the first token end by its expiry; give every
	// connection time to re-authenticate with a new-key token.
	select {
	case <-time.After(time.Until(first.Expiry.Add(5 * time.Second))):
	case <-ctx.Done():
	}
	fr := franz.finish(t, 30*time.Second)
	sr := sar.finish(t, 30*time.Second)
	for name, cs := range map[string]*countingSource{"franz-go producer": fp, "franz-go consumer": fc, "sarama producer": sp, "sarama consumer": sc} {
		assert.Positive(t, cs.handedKid(newKid), "%s never authenticated with a new-key token", name)
		assert.Zero(t, cs.errs.Load(), name)
	}
	assert.Zero(t, failedAuths(b, mark), "an authentication failed across the rotation")
	reauths := countLog(b, mark, "REAUTH_PROCESS_HANDSHAKE")
	report(t, "key rotation: franz-go %d records, sarama %d records, broker re-authentications after the rotation %d", fr.Consumed, sr.Consumed, reauths)
}

// must returns v, panicking on err: for constructors that fail only on a
// nil token source, which these tests never pass.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
