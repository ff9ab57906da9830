package idptest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

// registry is an in-memory Schema Registry: the handful of endpoints the
// bearer transport's users call (list subjects, register a schema under a
// subject, read a schema by ID or by subject and version), with Confluent's
// JSON error body {"error_code":40401,"message":"..."}. It stores schemas
// as given: no compatibility checks, no normalisation, no references.
type registry struct {
	mu       sync.Mutex
	schemas  []registrySchema    // ID i+1 is schemas[i]
	subjects map[string][]int    // subject -> schema IDs, version v is [v-1]
	order    []string            // subjects in registration order
	byText   map[registryKey]int // (type, schema) -> ID, so a schema keeps its ID
	mux      *http.ServeMux
}

type registrySchema struct {
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType,omitempty"`
}

type registryKey struct{ typ, schema string }

// Confluent Schema Registry error codes used here.
const (
	srSubjectNotFound = 40401
	srVersionNotFound = 40402
	srSchemaNotFound  = 40403
	srInvalidSchema   = 42201
	srInvalidVersion  = 42202
)

func newRegistry() *registry {
	g := &registry{subjects: map[string][]int{}, byText: map[registryKey]int{}, mux: http.NewServeMux()}
	mux := g.mux
	mux.HandleFunc("GET /subjects", g.listSubjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", g.listVersions)
	mux.HandleFunc("POST /subjects/{subject}/versions", g.register)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", g.byVersion)
	mux.HandleFunc("GET /schemas/ids/{id}", g.byID)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", g.idVersions)
	return g
}

func srError(w http.ResponseWriter, status, code int, msg string) {
	noteError(w, strconv.Itoa(code))
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}

func srJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	_ = json.NewEncoder(w).Encode(v)
}

func (g *registry) listSubjects(w http.ResponseWriter, _ *http.Request) {
	g.mu.Lock()
	out := slices.Clone(g.order)
	g.mu.Unlock()
	if out == nil {
		out = []string{}
	}
	srJSON(w, out)
}

func (g *registry) listVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	g.mu.Lock()
	ids, ok := g.subjects[subject]
	g.mu.Unlock()
	if !ok {
		srError(w, http.StatusNotFound, srSubjectNotFound, fmt.Sprintf("Subject '%s' not found.", subject))
		return
	}
	vs := make([]int, len(ids))
	for i := range ids {
		vs[i] = i + 1
	}
	srJSON(w, vs)
}

func (g *registry) register(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var in registrySchema
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Schema == "" {
		srError(w, http.StatusUnprocessableEntity, srInvalidSchema, "Invalid schema: the request body needs a \"schema\" string")
		return
	}
	if in.SchemaType == "AVRO" {
		in.SchemaType = "" // the registry's default type is not echoed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	key := registryKey{in.SchemaType, in.Schema}
	id, ok := g.byText[key]
	if !ok {
		g.schemas = append(g.schemas, in)
		id = len(g.schemas)
		g.byText[key] = id
	}
	ids, known := g.subjects[subject]
	if !known {
		g.order = append(g.order, subject)
	}
	if !slices.Contains(ids, id) {
		g.subjects[subject] = append(ids, id)
	}
	srJSON(w, map[string]int{"id": id})
}

func (g *registry) byVersion(w http.ResponseWriter, r *http.Request) {
	subject, v := r.PathValue("subject"), r.PathValue("version")
	g.mu.Lock()
	defer g.mu.Unlock()
	ids, ok := g.subjects[subject]
	if !ok {
		srError(w, http.StatusNotFound, srSubjectNotFound, fmt.Sprintf("Subject '%s' not found.", subject))
		return
	}
	n := len(ids)
	if v != "latest" && v != "-1" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			srError(w, http.StatusUnprocessableEntity, srInvalidVersion, fmt.Sprintf("The specified version '%s' is not a valid version id.", v))
			return
		}
	}
	if n > len(ids) {
		srError(w, http.StatusNotFound, srVersionNotFound, fmt.Sprintf("Version %d not found.", n))
		return
	}
	s := g.schemas[ids[n-1]-1]
	srJSON(w, map[string]any{"subject": subject, "version": n, "id": ids[n-1], "schema": s.Schema, "schemaType": cmp.Or(s.SchemaType, "AVRO")})
}

// schema returns the schema with the ID in r's path, or answers 404.
func (g *registry) schema(w http.ResponseWriter, r *http.Request) (int, registrySchema, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil || id < 1 || id > len(g.schemas) {
		srError(w, http.StatusNotFound, srSchemaNotFound, fmt.Sprintf("Schema %s not found", r.PathValue("id")))
		return 0, registrySchema{}, false
	}
	return id, g.schemas[id-1], true
}

func (g *registry) byID(w http.ResponseWriter, r *http.Request) {
	if _, s, ok := g.schema(w, r); ok {
		srJSON(w, s)
	}
}

func (g *registry) idVersions(w http.ResponseWriter, r *http.Request) {
	id, _, ok := g.schema(w, r)
	if !ok {
		return
	}
	type subjectVersion struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := []subjectVersion{}
	g.mu.Lock()
	for _, subject := range g.order {
		for i, sid := range g.subjects[subject] {
			if sid == id {
				out = append(out, subjectVersion{subject, i + 1})
			}
		}
	}
	g.mu.Unlock()
	srJSON(w, out)
}
