package oauthbearer_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// A raw source is asked once; every later call is served from the cache
// until the refresh point.
func ExampleNewCache() {
	calls := 0
	raw := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		calls++
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	})
	src, err := oauthbearer.NewCache(raw, &oauthbearer.CacheOptions{Name: "example idp"})
	if err != nil {
		panic(err)
	}
	defer src.Close()

	for range 1000 {
		if _, err := src.Token(context.Background()); err != nil {
			panic(err)
		}
	}
	fmt.Println("identity provider calls:", calls)
	// Output: identity provider calls: 1
}

// Tokens print redacted, whatever the formatting verb.
func ExampleToken() {
	tok := oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Principal: "workload-1"}
	fmt.Printf("%v\n%+v\n", tok, tok)
	// Output:
	// oauthbearer.Token{Value:<redacted 29 bytes>, Expiry:2030-01-02T03:04:05Z, Principal:workload-1}
	// oauthbearer.Token{Value:<redacted 29 bytes>, Expiry:2030-01-02T03:04:05Z, Principal:workload-1}
}

// Confluent Cloud reads the cluster and identity pool from SASL extensions;
// keys are validated by RFC 7628's rules.
func ExampleWithExtensions() {
	base := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t", Expiry: time.Now().Add(time.Hour)})
	_, err := oauthbearer.WithExtensions(base, map[string]string{"logical_cluster": "lkc-abc123"})
	var bad *oauthbearer.ExtensionError
	fmt.Println(errors.As(err, &bad), bad.Key)
	fmt.Println(err)
	// Output:
	// true logical_cluster
	// oauthbearer: SASL extension "logical_cluster"="lkc-abc123": keys may contain only ASCII letters [A-Za-z]; remove digits, punctuation and spaces; see https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md#sasl-extension-errors
}

// TokenSourceFunc turns any function into a source: here a token read from
// a file a sidecar keeps fresh. NewCache makes it refresh ahead of expiry.
func ExampleTokenSourceFunc() {
	read := func(context.Context) (string, time.Time, error) { // stands in for os.ReadFile and a JWT's exp
		return "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", time.Now().Add(time.Hour), nil
	}
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		v, exp, err := read(ctx)
		if err != nil {
			return oauthbearer.Token{}, fmt.Errorf("sidecar token: %w", err)
		}
		return oauthbearer.Token{Value: v, Expiry: exp, Principal: "sidecar"}, nil
	})
	cache, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Name: "sidecar"})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	tok, err := cache.Token(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Principal, tok.Expiry.After(time.Now()))
	// Output: sidecar true
}
