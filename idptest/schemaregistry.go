package idptest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

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
	// ExpectedIssuer is the required "iss". Default: Issuer.IssuerURL.
	ExpectedIssuer string
	// ExpectedAudience, if set, must be among the token's "aud".
	ExpectedAudience string
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
// {"error_code":401,"message":"Unauthorized"}. The reason is kept in the
// request's [Request].Error, as the real service keeps it in its own log.
// To answer 401 to requests with a valid token, as Confluent Cloud does
// when it has revoked a token early, queue
// Fault{Status: 401, Code: "401", Message: "Unauthorized"} with FailNext.
type SchemaRegistry struct {
	*Server
	// registry is the in-memory registry behind the authentication.
	registry *registry

	verifier *jwtverify.Verifier
	expect   jwtverify.Expect
	lsrc     string
	pool     string
}

// NewSchemaRegistry starts a SchemaRegistry closed when t's test ends.
// It calls t.Fatalf when opts sets neither Issuer nor JWKSURL and
// ExpectedIssuer.
func NewSchemaRegistry(t TB, opts *SchemaRegistryOptions) *SchemaRegistry {
	t.Helper()
	return newEmulator(t, opts, startSchemaRegistry)
}

func startSchemaRegistry(o SchemaRegistryOptions) (*SchemaRegistry, error) {
	var verifier *jwtverify.Verifier
	switch {
	case o.Issuer != nil:
		if o.ExpectedIssuer == "" {
			o.ExpectedIssuer = o.Issuer.IssuerURL
		}
		verifier = jwtverify.New(o.Issuer.JWKSURL, o.Issuer.Client())
	case o.JWKSURL != "" && o.ExpectedIssuer != "":
		verifier = jwtverify.New(o.JWKSURL, nil)
	default:
		return nil, errors.New("schema registry: SchemaRegistryOptions.Issuer is nil; set the issuer whose tokens the registry trusts (or JWKSURL and ExpectedIssuer)")
	}
	s := &SchemaRegistry{
		registry: newRegistry(),
		verifier: verifier,
		expect:   jwtverify.Expect{Issuer: o.ExpectedIssuer, Audience: o.ExpectedAudience},
		lsrc:     o.LogicalCluster,
		pool:     o.IdentityPoolID,
	}
	srv, err := startServer(http.HandlerFunc(s.serve), serverConfig{format: formatSchemaRegistry, tls: o.TLS})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return s, nil
}

func (s *SchemaRegistry) serve(w http.ResponseWriter, r *http.Request) {
	lsrc, pool := r.Header.Get("target-sr-cluster"), r.Header.Get("Confluent-Identity-Pool-Id")
	note(w, func(q *Request) { q.LogicalCluster, q.IdentityPoolID = lsrc, pool })
	sub, reason := s.authenticate(r, lsrc, pool)
	if reason != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="schema-registry"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": 401, "message": "Unauthorized"})
		noteError(w, reason)
		return
	}
	note(w, func(q *Request) { q.Subject = sub })
	s.registry.mux.ServeHTTP(w, r)
}

// authenticate returns the token's subject, or why r is refused.
func (s *SchemaRegistry) authenticate(r *http.Request, lsrc, pool string) (sub, reason string) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", "no Authorization header"
	}
	if len(h) > 1 {
		return "", "more than one Authorization header"
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", "the Authorization header is not a Bearer token"
	}
	if s.lsrc != "" && lsrc != s.lsrc {
		if lsrc == "" {
			return "", "no target-sr-cluster header"
		}
		return "", "target-sr-cluster " + lsrc + " is not this registry (" + s.lsrc + ")"
	}
	if s.pool != "" && !confluentHasPool(pool, s.pool) {
		if pool == "" {
			return "", "no Confluent-Identity-Pool-Id header"
		}
		return "", "Confluent-Identity-Pool-Id " + pool + " does not include " + s.pool
	}
	_, sub, err := s.verifier.Verify(tok, s.expect)
	if err != nil {
		return "", err.Error()
	}
	return sub, ""
}
