package idptest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// SchemaRegistryOptions configures a [SchemaRegistry].
type SchemaRegistryOptions struct {
	// Issuer signs the bearer tokens the registry accepts; required.
	// Tokens are verified against its JWKS.
	Issuer *Issuer
	// JWKSURL, instead of Issuer, is the key set of a token issuer that
	// is not an [Issuer] (the SPIFFE Workload API emulator's); then
	// ExpectedIssuer is required.
	JWKSURL string
	// ExpectedIssuer is the required "iss". Default: Issuer.IssuerURL().
	ExpectedIssuer string
	// Audience, if set, must be among the token's "aud".
	Audience string
	// LogicalCluster, if set, is the registry's logical cluster ID
	// (lsrc-...): every request must carry it in target-sr-cluster, as
	// Confluent Cloud requires for OAuth.
	LogicalCluster string
	// IdentityPoolID, if set, must be listed in the
	// Confluent-Identity-Pool-Id header (a comma-separated list).
	IdentityPoolID string
	// TLS serves HTTPS (use [Server.Client] to trust it). Default plain
	// HTTP.
	TLS bool
}

// SchemaRegistry is a Confluent Cloud style Schema Registry: a small
// in-memory registry (list subjects, register a schema, read a schema by ID
// or by subject and version) behind OAuth bearer authentication. Every
// request needs "Authorization: Bearer <jwt>" signed by the configured
// Issuer (issuer, audience, expiry and subject checked), plus the
// target-sr-cluster and Confluent-Identity-Pool-Id headers when
// configured; otherwise it answers 401 with Confluent's error body
// {"error_code":401,"message":"Unauthorized"}. The reason is kept in
// [SchemaRegistry.Log], as the real service keeps it in its own log.
type SchemaRegistry struct {
	*Server
	// registry is the in-memory registry behind the authentication.
	registry *registry

	verifier *jwtverify.Verifier
	expect   jwtverify.Expect
	lsrc     string
	pool     string

	rejectNext   atomic.Int64
	authorized   atomic.Int64
	unauthorized atomic.Int64

	mu  sync.Mutex
	log []SchemaRegistryRequest
}

// SchemaRegistryRequest records one request the registry authenticated
// (or refused). It holds no token.
type SchemaRegistryRequest struct {
	Method, Path string
	// LogicalCluster and IdentityPoolID are the headers received.
	LogicalCluster, IdentityPoolID string
	// Subject is the token's "sub" when it verified.
	Subject string
	// Status is 401 for a refused request, 0 for one passed to the
	// registry.
	Status int
	// Reason says why a request was refused.
	Reason string
}

// NewSchemaRegistry starts a SchemaRegistry closed when t's test ends.
func NewSchemaRegistry(t TB, opts *SchemaRegistryOptions) *SchemaRegistry {
	t.Helper()
	s, err := StartSchemaRegistry(opts)
	if err != nil {
		t.Fatalf("emu: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartSchemaRegistry starts a SchemaRegistry; the caller must Close it.
func StartSchemaRegistry(opts *SchemaRegistryOptions) (*SchemaRegistry, error) {
	var o SchemaRegistryOptions
	if opts != nil {
		o = *opts
	}
	var verifier *jwtverify.Verifier
	switch {
	case o.Issuer != nil:
		if o.ExpectedIssuer == "" {
			o.ExpectedIssuer = o.Issuer.IssuerURL()
		}
		verifier = jwtverify.New(o.Issuer.JWKSURL(), o.Issuer.Client())
	case o.JWKSURL != "" && o.ExpectedIssuer != "":
		verifier = jwtverify.New(o.JWKSURL, &http.Client{Timeout: 10 * time.Second})
	default:
		return nil, errors.New("schema registry: SchemaRegistryOptions.Issuer is nil; set the issuer whose tokens the registry trusts (or JWKSURL and ExpectedIssuer)")
	}
	s := &SchemaRegistry{
		registry: newRegistry(),
		verifier: verifier,
		expect:   jwtverify.Expect{Issuer: o.ExpectedIssuer, Audience: o.Audience},
		lsrc:     o.LogicalCluster,
		pool:     o.IdentityPoolID,
	}
	tlsOn := o.TLS
	srv, err := startServer("schema registry", http.HandlerFunc(s.serve), &tlsOn)
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return s, nil
}

// RejectNext makes the registry answer 401 to the next n requests that
// carry a valid token, as Confluent Cloud does when it has revoked a token
// early, to test refresh-on-401.
func (s *SchemaRegistry) RejectNext(n int) { s.rejectNext.Add(int64(n)) }

// Authorized counts requests that passed authentication.
func (s *SchemaRegistry) Authorized() int { return int(s.authorized.Load()) }

// Unauthorized counts requests answered with 401.
func (s *SchemaRegistry) Unauthorized() int { return int(s.unauthorized.Load()) }

// Log returns every authenticated or refused request so far.
func (s *SchemaRegistry) Log() []SchemaRegistryRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func (s *SchemaRegistry) serve(w http.ResponseWriter, r *http.Request) {
	rec := SchemaRegistryRequest{
		Method: r.Method, Path: r.URL.Path,
		LogicalCluster: r.Header.Get("target-sr-cluster"),
		IdentityPoolID: r.Header.Get("Confluent-Identity-Pool-Id"),
	}
	reason := s.authenticate(r, &rec)
	if reason == "" && s.takeReject() {
		reason = "token rejected by RejectNext"
	}
	if reason != "" {
		rec.Status, rec.Reason = http.StatusUnauthorized, reason
		s.append(rec)
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="schema-registry"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": 401, "message": "Unauthorized"})
		return
	}
	s.append(rec)
	s.authorized.Add(1)
	s.registry.mux.ServeHTTP(w, r)
}

func (s *SchemaRegistry) takeReject() bool {
	for {
		n := s.rejectNext.Load()
		if n <= 0 {
			return false
		}
		if s.rejectNext.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (s *SchemaRegistry) append(rec SchemaRegistryRequest) {
	s.mu.Lock()
	s.log = append(s.log, rec)
	s.mu.Unlock()
}

// authenticate returns why r is refused, or "".
func (s *SchemaRegistry) authenticate(r *http.Request, rec *SchemaRegistryRequest) string {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "no Authorization header"
	}
	if len(h) > 1 {
		return "more than one Authorization header"
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "the Authorization header is not a Bearer token"
	}
	if s.lsrc != "" && rec.LogicalCluster != s.lsrc {
		if rec.LogicalCluster == "" {
			return "no target-sr-cluster header"
		}
		return "target-sr-cluster " + rec.LogicalCluster + " is not this registry (" + s.lsrc + ")"
	}
	if s.pool != "" && !confluentHasPool(rec.IdentityPoolID, s.pool) {
		if rec.IdentityPoolID == "" {
			return "no Confluent-Identity-Pool-Id header"
		}
		return "Confluent-Identity-Pool-Id " + rec.IdentityPoolID + " does not include " + s.pool
	}
	_, sub, err := s.verifier.Verify(tok, s.expect)
	if err != nil {
		return err.Error()
	}
	rec.Subject = sub
	return ""
}
