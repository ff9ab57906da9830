package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// A cached source of client-credentials tokens. The identity provider here
// is a local stand-in that checks the client's secret; in production
// TokenURL is the provider's token endpoint and the secret comes from a
// secret store, never from a flag or a log line.
func ExampleNewClientCredentials() {
	requests := 0
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if id, secret, ok := r.BasicAuth(); !ok || id != "orders-svc" || secret != "s3cr3t-value" || r.PostFormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer idp.Close()

	opts := &oauthclient.ClientCredentialsOptions{
		TokenURL: idp.URL + "/oauth2/token", ClientID: "orders-svc", ClientSecret: "s3cr3t-value", Scope: "kafka",
	}
	src, err := oauthclient.NewClientCredentials(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for range 3 {
		if _, err := src.Token(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("3 tokens served from %d request; options print as %s\n", requests, opts.ClientSecret)
	// Output: 3 tokens served from 1 request; options print as <redacted>
}

// private_key_jwt: the client authenticates with an assertion signed by
// its key instead of a secret. Issuer and Subject default to ClientID
// and Audience to TokenURL, as RFC 7523 requires of a client assertion;
// KeyID names the key registered at the provider. The stand-in provider
// checks the assertion with the public key.
func ExampleNewClientCredentials_privateKeyJWT() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := jwt.Parse(r.PostFormValue("client_assertion"), func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
			jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience("http://"+r.Host+r.URL.Path),
			jwt.WithIssuer("orders-svc"), jwt.WithSubject("orders-svc"))
		if err != nil || a.Header["kid"] != "orders-2026" || r.PostFormValue("client_id") != "orders-svc" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer idp.Close()

	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: idp.URL + "/oauth2/token", ClientID: "orders-svc",
		Assertion: &oauthclient.AssertionOptions{PrivateKey: key, KeyID: "orders-2026"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	if _, err := src.Token(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token granted")
	// Output: token granted
}
