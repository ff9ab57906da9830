// Package saidcheck collects everything a library says (log records,
// errors, formatted and encoded values) and the secrets it must never say,
// and fails a test for every secret, or 16-character piece of one, that
// appears. The secret hygiene tests and the hostile battery share it.
package saidcheck

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// MinPiece is the length of the shortest piece of a secret that must not
// appear anywhere.
const MinPiece = 16

// Collector gathers everything the library says (logs, errors, formatted
// values) and the secrets it must never say.
type Collector struct {
	mu      sync.Mutex
	out     bytes.Buffer // log output and formatted errors and values
	secrets map[string]string
	Log     *slog.Logger // logs at debug level into the collector
}

// New returns an empty collector.
func New() *Collector {
	c := &Collector{secrets: map[string]string{}}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}
	c.Log = slog.New(slog.NewMultiHandler(slog.NewJSONHandler(c, opts), slog.NewTextHandler(c, opts)))
	return c
}

// Write makes the collector a log sink.
func (c *Collector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

// Secret registers a value that must never be said, under a label used in
// failure messages instead of the value.
func (c *Collector) Secret(label, v string) {
	if v == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[v] = label
}

// Err records err in every fmt form, as a log attribute, and all that
// its Unwrap chain and errors.As reach ([Reachable]).
func (c *Collector) Err(err error) {
	if err == nil {
		return
	}
	c.Say(fmt.Sprintf("%v\n%+v\n%#v\n%s\n%q\n", err, err, err, err.Error(), err))
	c.Say(Reachable(err)) // what Unwrap and errors.As reach (error reporters walk them)
	c.Log.Debug("error seen by the caller", "err", err)
}

// Value records v in every fmt form, as JSON, YAML, XML, text and gob,
// and as a log attribute.
func (c *Collector) Value(v any) {
	c.Say(fmt.Sprintf("%v\n%+v\n%#v\n%s\n%x\n%d\n%q\n", v, v, v, v, v, v, v))
	if b, err := json.Marshal(v); err == nil {
		c.Say(string(b))
	}
	c.Say(EncodeAll(v))
	c.Log.Debug("value returned to the caller", "v", v)
}

// EncodeAll encodes v with every encoder beyond fmt, slog and JSON that
// users feed configuration and tokens to. Encoders that cannot encode v
// (a func field, no exported fields) contribute nothing; yaml panics on
// some types, which is recovered.
func EncodeAll(v any) (out string) {
	var b bytes.Buffer
	func() {
		defer func() { _ = recover() }()
		if y, err := yaml.Marshal(v); err == nil {
			b.Write(y)
		}
	}()
	if x, err := xml.Marshal(v); err == nil {
		b.Write(x)
		b.WriteByte('\n')
	}
	if tm, ok := v.(encoding.TextMarshaler); ok {
		if t, err := tm.MarshalText(); err == nil {
			b.Write(t)
			b.WriteByte('\n')
		}
	}
	var g bytes.Buffer
	func() {
		defer func() { _ = recover() }()
		if gob.NewEncoder(&g).Encode(v) == nil {
			b.Write(g.Bytes())
			b.WriteByte('\n')
		}
	}()
	return b.String()
}

// Say records s as said.
func (c *Collector) Say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.WriteString(s)
	c.out.WriteByte('\n')
}

// Check fails for every secret that appears, or a piece of which of at
// least MinPiece characters appears, in what was collected. It names the
// secret by label, never by value.
func (c *Collector) Check(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	hay := c.out.String()
	// A copy: a request the client abandoned may still reach the server
	// and add a secret while the check runs.
	secrets := maps.Clone(c.secrets)
	c.mu.Unlock()
	pieces := make(map[string]struct{}, len(hay))
	for i := 0; i+MinPiece <= len(hay); i++ {
		pieces[hay[i:i+MinPiece]] = struct{}{}
	}
	// Pieces that several secrets share are structure (a JWT's header, the
	// base64 of {"aud":"...), not secret, and would name the wrong one.
	shared := map[string]int{}
	for v := range secrets {
		seen := map[string]bool{}
		for i := 0; i+MinPiece <= len(v); i++ {
			if p := v[i : i+MinPiece]; !seen[p] {
				seen[p] = true
				shared[p]++
			}
		}
	}
	var leaks []string
	for v, label := range secrets {
		if len(v) < MinPiece {
			if strings.Contains(hay, v) {
				leaks = append(leaks, fmt.Sprintf("%s (whole value, %d chars)", label, len(v)))
			}
			continue
		}
		// A JWT's header (alg, kid, typ) is public and the same for every
		// token of an issuer: look for pieces of its payload and signature.
		from := 0
		if parts := strings.Split(v, "."); len(parts) == 3 && len(parts[0]) > 0 {
			from = len(parts[0]) + 1
		}
		for i := from; i+MinPiece <= len(v); i++ {
			if shared[v[i:i+MinPiece]] > 1 {
				continue
			}
			if _, ok := pieces[v[i:i+MinPiece]]; ok {
				leaks = append(leaks, fmt.Sprintf("%s (a %d-char piece at offset %d of %d)", label, MinPiece, i, len(v)))
				break
			}
		}
	}
	sort.Strings(leaks)
	for _, l := range leaks {
		t.Errorf("secret leaked into logs, errors or formatted values: %s", l)
	}
	t.Logf("checked %d secrets against %d bytes of logs, errors and formatted values", len(secrets), len(hay))
}
