package idptest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// exampleTB stands in for the *testing.T of a test: an Example has none.
type exampleTB struct{ cleanups []func() }

func (*exampleTB) Helper()                        {}
func (*exampleTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleTB) Cleanup(f func())             { t.cleanups = append(t.cleanups, f) }

// close runs the cleanups, last registered first, as testing does.
func (t *exampleTB) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

var _ idptest.TB = (*testing.T)(nil)

// An OAuth 2.0 client-credentials request to an OAuthServer, and what
// the server recorded of it.
func ExampleNewOAuthServer() {
	t := &exampleTB{} // in a test: t *testing.T
	defer t.close()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders": {Secret: "s3cret"}},
	})

	resp, err := srv.Client().PostForm(srv.TokenURL, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"orders"}, "client_secret": {"s3cret"},
	})
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var tok struct {
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, tok.TokenType, tok.ExpiresIn)

	r := srv.Requests()[0]
	fmt.Println(r.Method, r.Path, r.Status, r.ClientID, r.Token != "")
	// Output:
	// 200 Bearer 3600
	// POST /oauth2/token 200 orders true
}

// A fault in the emulator's own error format (here the OAuth JSON error
// of an OAuthServer; an STS answers the same Fault as its XML error),
// then a normal reply.
func ExampleServer_FailNext() {
	t := &exampleTB{}
	defer t.close()
	srv := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{
		Signer:  idptest.NewIssuer(t, nil),
		Clients: map[string]idptest.OAuthClient{"orders": {Secret: "s3cret"}},
	})
	srv.FailNext(1, idptest.Fault{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Message: "try again"})

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"orders"}, "client_secret": {"s3cret"}}
	for range 2 {
		resp, err := srv.Client().PostForm(srv.TokenURL, form)
		if err != nil {
			panic(err)
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		_ = resp.Body.Close()
		fmt.Printf("%d %q %q\n", resp.StatusCode, body.Error, body.Description)
	}
	for _, r := range srv.Requests() {
		fmt.Printf("%d %q\n", r.Status, r.Error)
	}
	// Output:
	// 503 "temporarily_unavailable" "try again"
	// 200 "" ""
	// 503 "temporarily_unavailable"
	// 200 ""
}
