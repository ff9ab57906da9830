package oauthbearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// rawSource is the same identity provider stand-in for every contender: it
// mints a token living an hour. Each contender caches it; the benchmark
// measures handing out the cached token, which is on every connection's
// path.
func rawSource(context.Context) (oauthbearer.Token, error) {
	return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
}

// BenchmarkTokenHotPath compares handing out a cached token by the
// physical floor (an atomic load and a wall-clock comparison), this
// module's Cache, golang.org/x/oauth2's ReuseTokenSource around the same
// source, and azidentity's own token cache (a ClientSecretCredential
// served by a local Entra-style token endpoint), serially and under
// b.RunParallel. Compare ratios, not absolute times: CI machines are
// shared and noisy.
func BenchmarkTokenHotPath(b *testing.B) {
	ctx := context.Background()

	cache, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(rawSource), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	if _, err := cache.Token(ctx); err != nil {
		b.Fatal(err)
	}

	reuse := oauth2.ReuseTokenSource(nil, oauth2TokenSource{})
	if _, err := reuse.Token(); err != nil {
		b.Fatal(err)
	}

	cred, closeEntra := localAzidentityCredential(b)
	defer closeEntra()
	opts := policy.TokenRequestOptions{Scopes: []string{"api://bench/.default"}}
	if _, err := cred.GetToken(ctx, opts); err != nil {
		b.Fatal(err)
	}

	// floor is the least a correct cache can do: load the held token
	// atomically and compare its deadline with the wall clock.
	type held struct {
		tok oauthbearer.Token
		due int64
	}
	var floor atomic.Pointer[held]
	floor.Store(&held{tok: oauthbearer.Token{Value: "t"}, due: time.Now().Add(time.Hour).UnixNano()})
	errFloor := errors.New("floor: token past its deadline")

	contenders := []struct {
		name string
		get  func() error
	}{
		{"floor", func() error {
			if h := floor.Load(); h != nil && time.Now().UnixNano() < h.due {
				return nil
			}
			return errFloor
		}},
		{"cache", func() error { _, err := cache.Token(ctx); return err }},
		{"x_oauth2_reuse", func() error { _, err := reuse.Token(); return err }},
		{"azidentity", func() error { _, err := cred.GetToken(ctx, opts); return err }},
	}
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.get(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"_parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

type oauth2TokenSource struct{}

func (oauth2TokenSource) Token() (*oauth2.Token, error) {
	t, err := rawSource(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.Value, TokenType: "Bearer", Expiry: t.Expiry}, nil
}

// localAzidentityCredential returns a real azidentity ClientSecretCredential
// whose authority is a local TLS server answering OIDC discovery and the
// v2.0 token endpoint, so that GetToken after the first call is served
// from azidentity's (MSAL's) own cache.
func localAzidentityCredential(b *testing.B) (azcore.TokenCredential, func()) {
	b.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			tenant := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
			base := srv.URL + "/" + tenant
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer":                 base + "/v2.0",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
				"access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln",
			})
		default:
			http.NotFound(w, r)
		}
	}))
	cred, err := azidentity.NewClientSecretCredential("00000000-0000-0000-0000-000000000001", "bench-client", "not-a-real-secret",
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"},
				Transport: srv.Client(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		b.Fatal(err)
	}
	return cred, srv.Close
}
