package secrethygiene

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// minPiece is the length of the shortest piece of a secret that must not
// appear anywhere.
const minPiece = 16

// collector gathers everything the library says (logs, errors, formatted
// values) and the secrets it must never say.
type collector struct {
	mu      sync.Mutex
	out     bytes.Buffer // log output and formatted errors and values
	secrets map[string]string
	log     *slog.Logger
}

func newCollector() *collector {
	c := &collector{secrets: map[string]string{}}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}
	c.log = slog.New(slog.NewMultiHandler(slog.NewJSONHandler(c, opts), slog.NewTextHandler(c, opts)))
	return c
}

// Write makes the collector a log sink.
func (c *collector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

// secret registers a value that must never be said, under a label used in
// failure messages instead of the value.
func (c *collector) secret(label, v string) {
	if v == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[v] = label
}

// err records err in every fmt form and as a log attribute.
func (c *collector) err(err error) {
	if err == nil {
		return
	}
	c.say(fmt.Sprintf("%v\n%+v\n%#v\n%s\n%q\n", err, err, err, err.Error(), err))
	c.log.Debug("error seen by the caller", "err", err)
}

// value records v in every fmt form, as JSON, YAML, XML, text and gob,
// and as a log attribute.
func (c *collector) value(v any) {
	c.say(fmt.Sprintf("%v\n%+v\n%#v\n%s\n%x\n%d\n%q\n", v, v, v, v, v, v, v))
	if b, err := json.Marshal(v); err == nil {
		c.say(string(b))
	}
	c.say(encodeAll(v))
	c.log.Debug("value returned to the caller", "v", v)
}

// encodeAll encodes v with every encoder beyond fmt, slog and JSON that
// users feed configuration and tokens to. Encoders that cannot encode v
// (a func field, no exported fields) contribute nothing; yaml panics on
// some types, which is recovered.
func encodeAll(v any) (out string) {
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

func (c *collector) say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.WriteString(s)
	c.out.WriteByte('\n')
}

// check fails for every secret that appears, or a piece of which of at
// least minPiece characters appears, in what was collected. It names the
// secret by label, never by value.
func (c *collector) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	hay := c.out.String()
	secrets := c.secrets
	c.mu.Unlock()
	pieces := make(map[string]struct{}, len(hay))
	for i := 0; i+minPiece <= len(hay); i++ {
		pieces[hay[i:i+minPiece]] = struct{}{}
	}
	// Pieces that several secrets share are structure (a JWT's header, the
	// base64 of {"aud":"...), not secret, and would name the wrong one.
	shared := map[string]int{}
	for v := range secrets {
		seen := map[string]bool{}
		for i := 0; i+minPiece <= len(v); i++ {
			if p := v[i : i+minPiece]; !seen[p] {
				seen[p] = true
				shared[p]++
			}
		}
	}
	var leaks []string
	for v, label := range secrets {
		if len(v) < minPiece {
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
		for i := from; i+minPiece <= len(v); i++ {
			if shared[v[i:i+minPiece]] > 1 {
				continue
			}
			if _, ok := pieces[v[i:i+minPiece]]; ok {
				leaks = append(leaks, fmt.Sprintf("%s (a %d-char piece at offset %d of %d)", label, minPiece, i, len(v)))
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
