package secrethygiene

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// TestRedirectsSayNoSecret runs every source against a token endpoint that
// redirects to an attacker's host, logging at debug level, and checks that
// no credential appears in logs, errors or formatted values, and that the
// attacker's host received nothing.
//
// Fails before the idphttp redirect policy: the trap received the
// credentials (the check at the end of each subtest), and the sources
// returned and logged the attacker's token.
func TestRedirectsSayNoSecret(t *testing.T) {
	c := newCollector()
	b := redirecttest.New(t)
	redirect := func(match func(*http.Request) bool, next http.Handler) string {
		s := b.Serve(t, redirecttest.Redirect(http.StatusTemporaryRedirect, b.TrapURL("http", redirecttest.IdPHost), match, next), true)
		return redirecttest.URLAt(s, redirecttest.IdPHost)
	}

	t.Run("confluent sts", func(t *testing.T) {
		subject := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJoeWdpZW5lLXJlZGlyZWN0In0.c3ViamVjdC1zaWduYXR1cmUtcmVkaXJlY3Q"
		c.secret("redirected sts subject token", subject)
		src, err := confluent.NewSTS(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: subject, Expiry: time.Now().Add(time.Hour)}),
			&confluent.STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: redirect(nil, nil) + "/sts/v1/oauth2/token", HTTPClient: b.Client(), Cache: fastCache(c)})
		require.NoError(t, err)
		useErr(t, c, "redirected confluent sts", src)
	})
	t.Run("client credentials", func(t *testing.T) {
		const secret = "redirected-client-secret-0123456789"
		c.secret("redirected client secret", secret)
		c.secret("redirected basic header", base64.StdEncoding.EncodeToString([]byte("client-1:"+secret)))
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		c.secret("redirected private key scalar (hex)", scalarHex(t, key))
		for name, o := range map[string]oauthclient.ClientCredentialsOptions{
			"basic":           {ClientID: "client-1", ClientSecret: secret},
			"private_key_jwt": {ClientID: "client-1", Assertion: &oauthclient.AssertionOptions{PrivateKey: key}},
		} {
			o.TokenURL, o.HTTPClient, o.Cache = redirect(nil, nil)+"/token", b.Client(), fastCache(c)
			src, err := oauthclient.NewClientCredentials(&o)
			require.NoError(t, err)
			useErr(t, c, "redirected client credentials "+name, src)
		}
	})
	t.Run("azure workload identity", func(t *testing.T) {
		const tenant, client = "9d2f0000-0000-4000-8000-0000000000a1", "9d2f0000-0000-4000-8000-0000000000c1"
		federated := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aHlnaWVuZSJ9.ZmVkZXJhdGVkLXNpZ25hdHVyZS1yZWRpcmVjdA"
		c.secret("redirected federated token", federated)
		file := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(file, []byte(federated), 0o600))
		var base atomic.Value // the server's URL is known once it listens
		discovery := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tb := base.Load().(string) + "/" + tenant
			_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": tb + "/oauth2/v2.0/token",
				"authorization_endpoint": tb + "/oauth2/v2.0/authorize", "issuer": tb + "/v2.0"})
		})
		base.Store(redirect(func(r *http.Request) bool { return r.Method == http.MethodPost }, discovery))
		src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: "api://kafka", ClientID: client, TenantID: tenant,
			TokenFilePath: file, AuthorityHost: base.Load().(string) + "/", DisableInstanceDiscovery: true, Getenv: func(string) string { return "" },
			HTTPClient: b.Client(), Retry: noRetry, Cache: fastCache(c)})
		require.NoError(t, err)
		useErr(t, c, "redirected azure workload identity", src)
	})
	t.Run("azure managed identity", func(t *testing.T) {
		imds := b.Serve(t, redirecttest.Redirect(http.StatusTemporaryRedirect, b.TrapURL("http", redirecttest.TrapHost), nil, nil), false)
		b.Route("169.254.169.254:80", imds)
		src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: "api://hygiene-redirect-" + time.Now().Format(time.RFC3339Nano),
			HTTPClient: b.Client(), Retry: noRetry, Cache: fastCache(c)})
		require.NoError(t, err)
		useErr(t, c, "redirected azure managed identity", src)
	})
	t.Run("aws web identity", func(t *testing.T) {
		const session = "redirected-session-token-0123456789abcdef"
		c.secret("aws secret access key", awsSecret)
		c.secret("redirected aws session token", session)
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
			s := b.Serve(t, redirecttest.Redirect(status, b.TrapURL("http", redirecttest.IdPHost), nil, nil), true)
			src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"},
				Endpoint: redirecttest.URLAt(s, redirecttest.IdPHost), Cache: fastCache(c),
				Config: &sdkaws.Config{Region: "us-east-1", HTTPClient: b.Client(), Credentials: credentials.NewStaticCredentialsProvider(awsKey, awsSecret, session)}})
			require.NoError(t, err)
			useErr(t, c, "redirected aws web identity", src)
		}
	})
	t.Run("schema registry", func(t *testing.T) {
		tok := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzci1oeWdpZW5lIn0.c2NoZW1hLXJlZ2lzdHJ5LXJlZGlyZWN0LXNpZw"
		c.secret("redirected schema registry token", tok)
		registry := b.Serve(t, redirecttest.Redirect(http.StatusTemporaryRedirect, b.TrapURL("https", redirecttest.TrapHost), nil, nil), true)
		src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour)})
		cl, err := schemaregistry.NewHTTPClient(src, &schemaregistry.TransportOptions{LogicalCluster: "lsrc-abc123", Base: b.Transport()})
		require.NoError(t, err)
		tr, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{LogicalCluster: "lsrc-abc123", Base: b.Transport()})
		require.NoError(t, err)
		for _, cl := range []*http.Client{cl, {Transport: tr}} {
			req, err := http.NewRequestWithContext(tctx(t), http.MethodGet, redirecttest.URLAt(registry, redirecttest.IdPHost)+"/subjects", nil)
			require.NoError(t, err)
			resp, err := cl.Do(req)
			c.err(err)
			if resp != nil {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				c.say(string(body))
			}
		}
		// The plain http.Client followed the redirect, without the token.
		for _, r := range b.Received() {
			assert.Empty(t, r.Header.Get("Authorization"), "the token reached another origin")
			assert.Empty(t, r.Header.Get(schemaregistry.HeaderLogicalCluster))
		}
	})
	// What reached the attacker counts as said: a credential in it is a
	// leak. (Only the schema registry's plain http.Client is expected
	// there, without the token.)
	for _, r := range b.Received() {
		c.say(fmt.Sprintf("%s %s%s %v %s", r.Method, r.Host, r.Path, r.Header, r.Body))
	}
	c.check(t)
}
