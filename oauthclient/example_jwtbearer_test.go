package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// A cached source of jwt-bearer tokens: the source signs an assertion
// with the service's key and sends it as the grant. The identity provider
// here is the test bench's OAuth server, which verifies the assertion with
// the registered public key; in production the key is registered at the
// provider and read from a file (Assertion.PrivateKeyFile), so that a
// rotated key is used without a restart.
func ExampleNewJWTBearer() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})

	opts := &oauthclient.JWTBearerOptions{
		TokenURL: idp.TokenURL,
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
	tok, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token granted for", tok.Principal)

	// Errors name a signing setting by its path.
	_, err = oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{TokenURL: idp.TokenURL, Assertion: &oauthclient.AssertionOptions{PrivateKey: key}})
	fmt.Println(err)
	// Output:
	// token granted for orders-svc
	// oauthclient: JWTBearerOptions.Assertion.Issuer and JWTBearerOptions.Assertion.Subject must both be set (or JWTBearerOptions.Assertion.TemplateFile, a template that sets iss and sub): RFC 7523 requires both claims in the assertion
}
