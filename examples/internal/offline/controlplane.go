package offline

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// startControlPlane starts, behind the IMDS emulator, the Confluent STS
// emulator trusting issuer's tokens for e.Audience and IdentityPool, and a
// stand-in for the Confluent Cloud API that accepts only the STS's tokens.
func (e *Env) startControlPlane(issuer *idptest.Issuer) error {
	signer := idptest.NewIssuer(&e.run, &idptest.IssuerOptions{IssuerURL: "Confluent"}) // "iss" of real Confluent tokens
	sts := idptest.NewConfluentSTS(&e.run, &idptest.ConfluentSTSOptions{
		Signer:    signer,
		Providers: []idptest.ConfluentIdentityProvider{{Issuer: issuer, ExpectedAudience: e.Audience, Pools: []string{IdentityPool}}},
	})
	e.STSEndpoint = sts.TokenURL
	api, err := startControlPlane(signer.JWKSURL)
	if err != nil {
		return err
	}
	e.api, e.APIURL = api, api.url
	e.run.Cleanup(api.close)
	e.Described += ", the Confluent STS emulator and a Confluent Cloud API stand-in that accepts only its tokens"
	return nil
}

// controlPlane stands in for api.confluent.cloud's environments endpoint.
// Like the real API it accepts only Confluent-issued tokens: signed by the
// STS (RS256, checked against its JWKS), issuer "Confluent", audience
// "CONTROL_PLANE", for IdentityPool. An Azure token presented directly is
// refused, which is why the exchange is needed.
type controlPlane struct {
	url  string
	srv  *http.Server
	keys map[string]*rsa.PublicKey
	done chan struct{}

	mu          sync.Mutex
	ok, refused int
}

func startControlPlane(jwksURL string) (*controlPlane, error) {
	keys, err := fetchKeys(jwksURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &controlPlane{url: "http://" + ln.Addr().String(), keys: keys, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /org/v2/environments", c.environments)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

func (c *controlPlane) environments(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	err := c.authorize(r.Header.Get("Authorization"))
	c.mu.Lock()
	if err != nil {
		c.refused++
	} else {
		c.ok++
	}
	c.mu.Unlock()
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"status": "401", "detail": err.Error()}}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"api_version": "org/v2", "kind": "EnvironmentList",
		"metadata": map[string]any{"first": "https://api.confluent.cloud/org/v2/environments", "total_size": 2},
		"data": []map[string]string{
			{"api_version": "org/v2", "kind": "Environment", "id": "env-offl1", "display_name": "production"},
			{"api_version": "org/v2", "kind": "Environment", "id": "env-offl2", "display_name": "staging"},
		},
	})
}

// authorize accepts only a valid Confluent token for IdentityPool.
func (c *controlPlane) authorize(header string) error {
	scheme, tok, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return errors.New("missing bearer token")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the token is not a JWT")
	}
	var head struct{ Alg, Kid string }
	var claims struct {
		Iss, Aud, Sub string
		Exp           int64
	}
	if err := decodePart(parts[0], &head); err != nil {
		return err
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return err
	}
	key := c.keys[head.Kid]
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if head.Alg != "RS256" || key == nil || err != nil {
		return errors.New("the token is not signed by the Confluent STS")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch {
	case rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil:
		return errors.New("the token's signature does not verify")
	case claims.Iss != "Confluent" || claims.Aud != "CONTROL_PLANE":
		return fmt.Errorf("the token is from %q for %q, not from Confluent for CONTROL_PLANE", claims.Iss, claims.Aud)
	case time.Now().Unix() >= claims.Exp:
		return errors.New("the token has expired")
	case claims.Sub != IdentityPool:
		return fmt.Errorf("the token is for %q, not an identity pool of this organization", claims.Sub)
	}
	return nil
}

func (c *controlPlane) counts() (ok, refused int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok, c.refused
}

func (c *controlPlane) close() {
	_ = c.srv.Close()
	<-c.done
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("the token is not a JWT")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("the token is not a JWT")
	}
	return nil
}

// fetchKeys reads the RSA keys of a JWKS.
func fetchKeys(jwksURL string) (map[string]*rsa.PublicKey, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("offline: the JWKS at %s: %w", jwksURL, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if k.Kty != "RSA" || err1 != nil || err2 != nil {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("offline: the JWKS at %s has no RSA key", jwksURL)
	}
	return keys, nil
}
