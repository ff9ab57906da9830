package confluent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp/redirecttest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// redirectSources builds each confluent source against endpoint with
// client (nil: the default client), and lists the credentials its request
// carries.
func redirectSources(t *testing.T) map[string]func(endpoint string, client *http.Client) (*oauthbearer.Cache, []string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	const secret = "redirect-secret-0123456789"
	cache := func() *oauthbearer.CacheOptions {
		return &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, FetchTimeout: 5 * time.Second}
	}
	basic := func(id, s string) string { return base64.StdEncoding.EncodeToString([]byte(id + ":" + s)) }
	cc := func(o oauthclient.ClientCredentialsOptions, endpoint string, client *http.Client) *oauthbearer.Cache {
		o.TokenURL, o.HTTPClient, o.Cache = endpoint, client, cache()
		src, err := oauthclient.NewClientCredentials(&o)
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return src
	}
	return map[string]func(string, *http.Client) (*oauthbearer.Cache, []string){
		"sts": func(endpoint string, client *http.Client) (*oauthbearer.Cache, []string) {
			const subject = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZWRpcmVjdC1zdWJqZWN0In0.c2lnbmF0dXJlLXN1YmplY3Q"
			src, err := NewSTS(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: subject, Expiry: time.Now().Add(time.Hour)}),
				&STSOptions{IdentityPoolID: "pool-a1b2", TokenURL: endpoint, HTTPClient: client, Cache: cache()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			return src, []string{subject}
		},
		"client_secret_basic": func(endpoint string, client *http.Client) (*oauthbearer.Cache, []string) {
			return cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", ClientSecret: secret}, endpoint, client), []string{secret, basic("client-1", secret)}
		},
		"client_secret_basic raw": func(endpoint string, client *http.Client) (*oauthbearer.Cache, []string) {
			return cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", ClientSecret: secret, RawBasicAuth: true}, endpoint, client), []string{secret, basic("client-1", secret)}
		},
		"private_key_jwt": func(endpoint string, client *http.Client) (*oauthbearer.Cache, []string) {
			// The assertion is made per request; what must not leave is the
			// request itself, which the trap would record.
			return cc(oauthclient.ClientCredentialsOptions{ClientID: "client-1", Assertion: &oauthclient.AssertionOptions{PrivateKey: key}}, endpoint, client), []string{scalarHex(t, key)}
		},
	}
}

// TestTokenRequestsRefuseRedirects: a token endpoint that answers 307 or
// 308 must not get the request re-sent to the Location: plain http on
// another host, https on another host, or plain http on the same host name
// (where Go keeps client_secret_basic's Authorization header, so the
// secret would cross the network in clear text). The form, with the
// subject token or the client assertion, would go in every case.
//
// Fails before the idphttp redirect policy: the trap received the form
// (and, for the same host name, Authorization: Basic), and the source
// returned the trap's "attacker-token".
func TestTokenRequestsRefuseRedirects(t *testing.T) {
	t.Parallel()
	for name, newSrc := range redirectSources(t) {
		for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
			for _, to := range []struct{ scheme, host string }{{"http", redirecttest.TrapHost}, {"https", redirecttest.TrapHost}, {"http", redirecttest.IdPHost}} {
				t.Run(fmt.Sprintf("%s/%d/%s/%s", name, status, to.scheme, to.host), func(t *testing.T) {
					t.Parallel()
					b := redirecttest.New(t)
					idp := b.Serve(t, redirecttest.Redirect(status, b.TrapURL(to.scheme, to.host), nil, nil), true)
					base := redirecttest.URLAt(idp, redirecttest.IdPHost) + "/oauth2/token"
					client := b.Client()
					src, secrets := newSrc(base+"?tenant=q-must-not-appear", client)
					tok, err := src.Token(context.Background())
					assert.Empty(t, tok.Value)
					b.CheckRefused(t, err, base, to.scheme, to.host, secrets...)
					assert.NotContains(t, err.Error(), "q-must-not-appear")
					assert.Nil(t, client.CheckRedirect, "the caller's client was modified")
				})
			}
		}
	}
}

// TestDefaultClientRefusesRedirects: the same with the default client
// (which cannot resolve made-up names, so the Location is another port of
// 127.0.0.1 reached from "localhost").
//
// Fails before the idphttp redirect policy: the default client followed
// the 307 and the trap received the form.
func TestDefaultClientRefusesRedirects(t *testing.T) {
	t.Parallel()
	for name, newSrc := range redirectSources(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := redirecttest.New(t)
			idp := b.Serve(t, redirecttest.Redirect(http.StatusTemporaryRedirect, b.LoopbackTrapURL(), nil, nil), false)
			endpoint := strings.Replace(idp.URL, "127.0.0.1", "localhost", 1) + "/token"
			src, secrets := newSrc(endpoint, nil)
			_, err := src.Token(context.Background())
			require.Error(t, err)
			assert.Empty(t, b.Received(), "the redirect target received the request")
			assert.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
			assert.Contains(t, err.Error(), endpoint)
			for _, s := range secrets {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

// TestDefaultClientLeavesNoGoroutine is not parallel: goleak looks at
// every goroutine. With the default client, no connection goroutine may
// outlive a source's Close, while the identity provider keeps running.
//
// Fails before the default client disabled keep-alives: the idle
// connection's readLoop and writeLoop goroutines (and the emulator's side
// of it) were still running after Close.
func TestDefaultClientLeavesNoGoroutine(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	sts := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{Signer: iss,
		Providers: []idptest.ConfluentIdentityProvider{{Issuer: iss, ExpectedAudience: "app-1", Pools: []string{"pool-7yzk"}}}})
	cc := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss,
		Clients: map[string]idptest.OAuthClient{"client-1": {Secret: "leak-test-secret"}}})
	subject := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: iss.Mint("workload-1", "app-1", time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
	})
	// The STS emulator fetches the issuer's keys once and keeps that
	// connection: let it, before counting.
	warm, err := NewSTS(subject, &STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: sts.TokenURL,
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	require.NoError(t, err)
	_, err = warm.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, warm.Close())
	before := leakcheck.Current()

	s, err := NewSTS(subject, &STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: sts.TokenURL})
	require.NoError(t, err)
	_, err = s.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	c, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: cc.TokenURL, ClientID: "client-1", ClientSecret: "leak-test-secret"})
	require.NoError(t, err)
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, c.Close())

	leakcheck.VerifyNone(t, before)
}

// scalarHex is the private key's scalar in hex (PrivateKey.Bytes, not the
// deprecated D): a form of the key that must never appear anywhere.
func scalarHex(t testing.TB, key *ecdsa.PrivateKey) string {
	b, err := key.Bytes()
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
