package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// offlinePool is the identity pool the offline STS knows.
const offlinePool = "pool-Offl1"

// offline is the local stand-in for Entra ID and Confluent Cloud.
type offline struct {
	issuer *oauthbearertest.Issuer
	signer *oauthbearertest.Issuer // Confluent's token signer
	imds   *oauthbearertest.IMDS
	sts    *oauthbearertest.ConfluentSTS
	api    *controlPlane
	target string
}

// startOffline starts an issuer standing in for Entra ID behind the IMDS
// emulator, the Confluent STS emulator trusting that issuer for
// offlinePool, and the control-plane stand-in trusting the STS's signer.
func startOffline() (_ *offline, err error) {
	env := &offline{target: randomGUID()}
	defer func() {
		if err != nil {
			env.close(func(string, ...any) {})
		}
	}()
	env.issuer = oauthbearertest.NewIssuer(nil)
	env.signer = oauthbearertest.NewIssuer(&oauthbearertest.IssuerOptions{IssuerURL: "Confluent"}) // "iss" of real Confluent tokens
	env.imds = oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{Signer: env.issuer, TokenLifetime: time.Hour})
	env.sts = oauthbearertest.NewConfluentSTS(&oauthbearertest.ConfluentSTSOptions{
		Signer:    env.signer,
		Providers: []oauthbearertest.ConfluentIdentityProvider{{Issuer: env.issuer, Audience: env.target, Pools: []string{offlinePool}}},
	})
	env.api, err = startControlPlane(env.signer.JWKSURL())
	return env, err
}

// close reports what the emulators saw (never a token) and stops them.
func (env *offline) close(say func(string, ...any)) {
	if env.api != nil {
		ok, refused := env.api.counts()
		say("control-plane stand-in: %d requests accepted, %d refused", ok, refused)
		env.api.close()
	}
	if env.sts != nil {
		if ex := env.sts.Requests(); len(ex) > 0 {
			say("Confluent STS emulator: %d exchanges; last answered %d", len(ex), ex[len(ex)-1].Status)
		}
		env.sts.Close()
	}
	if env.imds != nil {
		env.imds.Close()
	}
	if env.signer != nil {
		env.signer.Close()
	}
	if env.issuer != nil {
		env.issuer.Close()
	}
}

// controlPlane is a stand-in for api.confluent.cloud's environments
// endpoint. Like the real API it accepts only Confluent-issued tokens:
// signed by the STS (verified against its JWKS), issuer "Confluent",
// audience "CONTROL_PLANE", for a known identity pool. An Azure token
// presented directly is refused, which is why the exchange is needed.
type controlPlane struct {
	URL      string
	srv      *http.Server
	verifier *jwtverify.Verifier
	done     chan struct{}

	mu          sync.Mutex
	ok, refused int
}

func startControlPlane(jwksURL string) (*controlPlane, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &controlPlane{
		URL:      "http://" + ln.Addr().String(),
		verifier: jwtverify.New(jwksURL, &http.Client{Timeout: 10 * time.Second}),
		done:     make(chan struct{}),
	}
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
	if err := c.authorize(r); err != nil {
		c.count(false)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"status": "401", "detail": err.Error()}}})
		return
	}
	c.count(true)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"api_version": "org/v2", "kind": "EnvironmentList",
		"metadata": map[string]any{"first": "https://api.confluent.cloud/org/v2/environments", "total_size": 2},
		"data": []map[string]string{
			{"api_version": "org/v2", "kind": "Environment", "id": "env-offl1", "display_name": "production"},
			{"api_version": "org/v2", "kind": "Environment", "id": "env-offl2", "display_name": "staging"},
		},
	})
}

// authorize accepts only a Confluent token for offlinePool.
func (c *controlPlane) authorize(r *http.Request) error {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return errors.New("missing bearer token")
	}
	_, sub, err := c.verifier.Verify(tok, jwtverify.Expect{Issuer: "Confluent", Audience: "CONTROL_PLANE"})
	if err != nil {
		return fmt.Errorf("invalid token: %w", err)
	}
	if sub != offlinePool {
		return fmt.Errorf("token is for %q, not an identity pool of this organization", sub)
	}
	return nil
}

func (c *controlPlane) count(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.ok++
	} else {
		c.refused++
	}
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

// randomGUID names a fresh App Registration per run: azidentity caches
// managed-identity tokens process-wide by client and scope, and a token
// from an earlier run's emulator would not verify against this one.
func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
