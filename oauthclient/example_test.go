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

// A cached source of client-credentials tokens. The identity provider here
// is the test bench's OAuth server, which checks the client's secret and
// scope; in production TokenURL is the provider's token endpoint and the
// secret comes from a secret store, never from a flag or a log line.
func ExampleNewClientCredentials() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders-svc": {Secret: "s3cr3t-value", Scopes: []string{"kafka"}}},
	})

	opts := &oauthclient.ClientCredentialsOptions{
		TokenURL: idp.TokenURL, ClientID: "orders-svc", ClientSecret: "s3cr3t-value", Scope: "kafka",
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
	fmt.Printf("3 tokens served from %d request; options print as %s\n", len(idp.Issued()), opts.ClientSecret)
	// Output: 3 tokens served from 1 request; options print as <redacted>
}

// private_key_jwt: the client authenticates with an assertion signed by
// its key instead of a secret. Issuer and Subject default to ClientID
// and Audience to TokenURL, as RFC 7523 requires of a client assertion;
// KeyID names the key registered at the provider. The test bench's OAuth
// server verifies the assertion with the registered public key.
func ExampleNewClientCredentials_privateKeyJWT() {
	t := &faketb.Example{} // in a test: the test's *testing.T
	defer t.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders-svc": {PublicKey: &key.PublicKey}},
	})

	src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
		TokenURL: idp.TokenURL, ClientID: "orders-svc",
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
	r := idp.Issued()[0]
	fmt.Printf("token granted to %s, authenticated by an assertion: %t\n", r.ClientID, r.Assertion != "")
	// Output: token granted to orders-svc, authenticated by an assertion: true
}
