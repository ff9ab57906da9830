package idptest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
)

// checkCert authenticates a client with RFC 8705 tls_client_auth: a
// client certificate that the TLS layer verified against ClientCAs, whose
// subject is the one registered for client_id.
func (s *OAuthServer) checkCert(r *http.Request, id string) (string, int, string, string) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return "", http.StatusUnauthorized, "invalid_client", "tls_client_auth: the TLS connection presented no client certificate that chains to a trusted CA"
	}
	leaf := r.TLS.VerifiedChains[0][0]
	if leaf.Subject.String() != s.clients[id].CertSubject {
		return "", http.StatusUnauthorized, "invalid_client", "tls_client_auth: the client certificate's subject is not the one registered for the client"
	}
	return id, 0, "", ""
}

// boundCert returns the verified client certificate the token is bound
// to: the one a tls_client_auth client authenticated with.
func boundCert(r *http.Request, c OAuthClient) *x509.Certificate {
	if c.CertSubject == "" || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// thumbprint is RFC 8705's x5t#S256: the base64url SHA-256 of the DER
// certificate.
func thumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
