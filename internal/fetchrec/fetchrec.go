// Package fetchrec is the per-fetch record of every secret the module sent,
// and the one scrub applied to what leaves a fetch.
//
// The [oauthbearer.Cache] puts a fresh [Recorder] in the context of each
// call to its source ([With]). The credential gate (internal/idphttp), the
// one transport every identity-provider request passes, records into it
// what each request carries ([Record], [RecordRequest]): secret form
// values, credential headers, the client secret inside Basic
// authentication. Sources record what they hold outside HTTP (a key, a
// token read from a file) the same way. When the fetch ends, the cache
// scrubs its error ([Error]) and every log record emitted through a
// [Handler] under that context with what was recorded, so text that a
// third-party library built from an echoing server's reply cannot quote
// what we sent, whichever source made the request.
//
// The package imports nothing of the module but internal/srvtext, so
// that oauthbearer (which internal/idphttp imports) can import it.
package fetchrec

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// maxValues bounds what one fetch records: a fetch sends a handful of
// requests; a runaway retry loop in a library must not grow the record
// without end.
const maxValues = 256

// Recorder collects the secrets sent during one fetch. It is safe for
// concurrent use; the zero value is ready, and a nil *Recorder records
// nothing.
type Recorder struct {
	mu   sync.Mutex
	vals []string
	seen map[string]struct{}
}

// New returns an empty recorder.
func New() *Recorder { return &Recorder{} }

type key struct{}

// With returns ctx carrying r.
func With(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, key{}, r)
}

// From returns the recorder ctx carries, or nil.
func From(ctx context.Context) *Recorder {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(key{}).(*Recorder)
	return r
}

// Record adds vals to the recorder ctx carries, if any.
func Record(ctx context.Context, vals ...string) { From(ctx).Add(vals...) }

// Add records vals. Values shorter than four bytes are ignored: no
// credential is that short, and removing them would garble messages.
func (r *Recorder) Add(vals ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vals {
		if len(v) < 4 || len(r.vals) >= maxValues {
			continue
		}
		if _, ok := r.seen[v]; ok {
			continue
		}
		if r.seen == nil {
			r.seen = make(map[string]struct{})
		}
		r.seen[v] = struct{}{}
		r.vals = append(r.vals, v)
	}
}

// Values returns a copy of what was recorded.
func (r *Recorder) Values() []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.vals...)
}

// Scrub is [srvtext.Scrub] with the recorded values and extra removed: the
// one scrub of text leaving a fetch.
func (r *Recorder) Scrub(s string, extra ...string) string {
	return srvtext.Scrub(s, append(r.Values(), extra...)...)
}

// RecordRequest records the secrets req carries into the recorder of its
// context: see [Secrets]. body is the request body when the caller read
// it (nil otherwise).
func RecordRequest(req *http.Request, body []byte) {
	if r := From(req.Context()); r != nil {
		r.Add(Secrets(req, body)...)
	}
}

// Secrets lists what req carries that must never be quoted back: the
// Authorization header whole, its credential, and the password of Basic
// authentication (as sent and unescaped, as OAuth clients form-encode
// it); every header whose name says it carries a credential
// (X-Amz-Security-Token, X-Identity-Header, Proxy-Authorization, Cookie,
// ...); and, in the query and in a form-encoded or JSON body, every value
// whose key says it is a credential (client_secret, client_assertion,
// assertion, subject_token, password, ...) or whose value looks like a
// token or key (a JWT, a long base64 run).
func Secrets(req *http.Request, body []byte) []string {
	var out []string
	for name, vs := range req.Header {
		if !secretHeader(name) {
			continue
		}
		for _, v := range vs {
			out = append(out, v)
			if scheme, cred, ok := strings.Cut(v, " "); ok {
				out = append(out, strings.TrimSpace(cred))
				if strings.EqualFold(scheme, "Basic") {
					out = append(out, basicPassword(strings.TrimSpace(cred))...)
				}
			}
		}
	}
	if req.URL != nil {
		out = append(out, values(req.URL.Query())...)
	}
	if len(body) > 0 {
		out = append(out, bodySecrets(req.Header.Get("Content-Type"), body)...)
	}
	return out
}

func basicPassword(cred string) []string {
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return nil
	}
	_, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return nil
	}
	out := []string{pass}
	if raw, err := url.QueryUnescape(pass); err == nil && raw != pass {
		out = append(out, raw)
	}
	return out
}

func bodySecrets(contentType string, body []byte) []string {
	ct := strings.ToLower(contentType)
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		return values(form)
	case strings.Contains(ct, "json"):
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		var out []string
		for k, v := range m {
			if s, ok := v.(string); ok && (secretKey(k) || tokenShaped(s)) {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func values(form url.Values) []string {
	var out []string
	for k, vs := range form {
		for _, v := range vs {
			if secretKey(k) || tokenShaped(v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// secretKey reports a form, query or JSON key that names a credential:
// client_secret, client_assertion, assertion, subject_token,
// actor_token, refresh_token, password, code, code_verifier, api_key,
// ... but not the *_type keys that name a credential's kind.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_type") || strings.HasSuffix(k, "-type") {
		return false
	}
	for _, w := range []string{"secret", "assertion", "token", "password", "passwd", "key", "credential", "signature"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return k == "code" || k == "code_verifier"
}

// secretHeader reports a header that carries a credential.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "x-identity-header", "secret":
		return true
	}
	for _, w := range []string{"token", "secret", "assertion", "password", "api-key", "apikey", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// tokenShaped reports a value that the scrubber's patterns would remove
// anyway (a JWT, key-like base64): recording it removes its encoded
// forms too.
func tokenShaped(v string) bool {
	return len(v) >= 20 && strings.Contains(srvtext.Scrub(v), srvtext.Redacted)
}
