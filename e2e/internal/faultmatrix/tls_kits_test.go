package faultmatrix

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Issue 25's options join the matrix: the client-credentials grant
// authenticated with a KIP-1258 client assertion, and with a TLS client
// certificate (RFC 8705) through idpclient's private-CA transport. They
// share the client-credentials reply parsing, so its overrides apply.
func init() {
	kits = append(kits, clientAssertionKit(), mutualTLSKit())
	for k, w := range overrides {
		if f, ok := strings.CutPrefix(k, "oauth client credentials/"); ok {
			overrides["oauth client assertion/"+f] = w
			overrides["oauth mutual TLS, private CA/"+f] = w
		}
	}
}

func clientAssertionKit() kit {
	return kit{name: "oauth client assertion", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, Lifetime: otherLife,
			Clients: map[string]idptest.OAuthClient{"svc-1": {PublicKey: &key.PublicKey}}})
		src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: s.TokenURL, ClientID: "svc-1",
			Assertion: &oauthclient.AssertionOptions{PrivateKey: key}, HTTPClient: s.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: s.Server, closeIdP: s.Close, status: oauthStatus, shaped: confluentShaped(iss, "svc-1", otherLife)}
	}}
}

func mutualTLSKit() kit {
	return kit{name: "oauth mutual TLS, private CA", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		ca := testpki.NewCA(t)
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, Lifetime: otherLife, ClientCAs: ca.Pool(),
			Clients: map[string]idptest.OAuthClient{"svc-1": {CertSubject: "CN=svc-1"}}})
		dir := t.TempDir()
		caFile := filepath.Join(dir, "ca.pem")
		require.NoError(t, os.WriteFile(caFile, s.CertificatePEM(), 0o600))
		cert, key := ca.IssueClient(t, "svc-1")
		certFile := filepath.Join(dir, "client.pem")
		require.NoError(t, os.WriteFile(certFile, append(key, cert...), 0o600))
		hc, err := idpclient.New(&idpclient.Options{RootCAFile: caFile, CertFile: certFile})
		require.NoError(t, err)
		src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: s.TokenURL, ClientID: "svc-1",
			TLSClientAuth: true, HTTPClient: hc, Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: s.Server, closeIdP: s.Close, status: oauthStatus, shaped: confluentShaped(iss, "svc-1", otherLife)}
	}}
}
