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

// A cached source of jwt-bearer tokens: the source signs an assertion
// with the service's key and sends it as the grant. The identity provider
// here is a local stand-in that verifies the assertion with the public
// key; in production the key is registered at the provider and read from
// a file (Assertion.PrivateKeyFile), so that a rotated key is used
// without a restart.
func ExampleNewJWTBearer() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := jwt.Parse(r.PostFormValue("assertion"), func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
			jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience("http://"+r.Host+r.URL.Path), jwt.WithSubject("orders-svc"))
		if r.PostFormValue("grant_type") != oauthclient.JWTBearerGrantType || err != nil || a.Claims.(jwt.MapClaims)["jti"] == nil {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer idp.Close()

	opts := &oauthclient.JWTBearerOptions{
		TokenURL: idp.URL + "/oauth2/token",
		// The same settings, defaults and checks as a client assertion's
		// (ClientCredentialsOptions.Assertion).
		Assertion: &oauthclient.AssertionOptions{PrivateKey: key, Issuer: "orders-svc", Subject: "orders-svc"},
	}
	src, err := oauthclient.NewJWTBearer(opts)
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

	// Errors name a signing setting by its path.
	_, err = oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: idp.URL, Assertion: &oauthclient.AssertionOptions{PrivateKey: key}})
	fmt.Println(err)
	// Output:
	// token granted
	// oauthclient: JWTBearerOptions.Assertion.Issuer and JWTBearerOptions.Assertion.Subject must both be set (or JWTBearerOptions.Assertion.TemplateFile, a template that sets iss and sub): RFC 7523 requires both claims in the assertion
}
