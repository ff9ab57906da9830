package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
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
// STS (checked against its JWKS by the verifier the test bench's brokers
// and emulators use), issuer "Confluent", audience "CONTROL_PLANE", for
// IdentityPool. An Azure token presented directly is refused, which is why
// the exchange is needed.
type controlPlane struct {
	url  string
	srv  *http.Server
	keys *jwtverify.Verifier
	done chan struct{}

	mu          sync.Mutex
	ok, refused int
}

func startControlPlane(jwksURL string) (*controlPlane, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &controlPlane{url: "http://" + ln.Addr().String(), keys: jwtverify.New(jwksURL, &http.Client{Timeout: 10 * time.Second}), done: make(chan struct{})}
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
	_, pool, err := c.keys.Verify(tok, jwtverify.Expect{Issuer: "Confluent", Audience: "CONTROL_PLANE"})
	if err != nil {
		return err
	}
	if pool != IdentityPool {
		return fmt.Errorf("the token is for %q, not an identity pool of this organization", pool)
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
