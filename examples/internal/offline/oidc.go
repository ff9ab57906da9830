package offline

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// The generic OIDC platforms (issue 18).
const (
	// TokenFile: a Kubernetes pod with a projected service-account token
	// for a custom audience, against brokers that trust the cluster's
	// issuer (Env.TokenFile, Env.Audience).
	TokenFile Kind = "token-file"
	// JWTBearer: a service holding a private key registered with an
	// identity provider that serves the RFC 7523 jwt-bearer grant
	// (Env.TokenURL, Env.ClientID, Env.PrivateKeyFile).
	JWTBearer Kind = "jwt-bearer"
)

// OIDCServiceAccount is the projected token's subject (TokenFile).
const OIDCServiceAccount = "system:serviceaccount:orders:writer"

// OIDCEnv holds the settings of the TokenFile and JWTBearer kinds.
type OIDCEnv struct {
	// TokenFile is the projected service-account token (TokenFile).
	TokenFile string
	// PrivateKeyFile is the service's ES256 key, PKCS#8 PEM (JWTBearer);
	// its public key is registered for Env.ClientID.
	PrivateKeyFile string
}

// startOIDC starts the identity side of TokenFile and JWTBearer and sets
// the audience the brokers expect. The issuer signs the Kubernetes tokens
// and the identity provider's access tokens alike.
func (e *Env) startOIDC(kind Kind, issuer *idptest.Issuer, broker *oauthbearertest.BrokerOptions) error {
	dir, err := e.tempDir("offline-")
	if err != nil {
		return err
	}
	e.Audience = "kafka"
	broker.ExpectedAudience = e.Audience
	if kind == TokenFile {
		// As the kubelet writes a projected token with audience "kafka".
		e.TokenFile = filepath.Join(dir, "kafka-token")
		e.Described = "a Kubernetes issuer that projected a token for " + OIDCServiceAccount
		return os.WriteFile(e.TokenFile, []byte(issuer.Mint(OIDCServiceAccount, e.Audience, time.Hour, nil)), 0o600)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	e.PrivateKeyFile = filepath.Join(dir, "orders-svc.pem")
	if err := os.WriteFile(e.PrivateKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	e.ClientID = "orders-svc"
	idp := idptest.NewOAuthServer(&e.run, &idptest.OAuthServerOptions{
		Signer: issuer, Audience: e.Audience,
		Clients: map[string]idptest.OAuthClient{e.ClientID: {PublicKey: &key.PublicKey, Scopes: []string{"kafka"}}},
	})
	e.TokenURL, e.idp, e.idpName = idp.TokenURL, idp.Server, "the OAuth server"
	e.Described = "an OAuth server serving the jwt-bearer grant for " + e.ClientID + "'s key"
	return nil
}
