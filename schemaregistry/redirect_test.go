package schemaregistry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const redirectToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzci1yZWRpcmVjdCJ9.c2lnbmF0dXJlLXNyLXJlZGlyZWN0"

// recorder is a server that records the credential headers of every
// request, and redirects those under /redirect to where.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []http.Header
	where string
	code  int
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, http.Header{
			"Authorization": req.Header.Values("Authorization"),
			http.CanonicalHeaderKey(HeaderLogicalCluster): req.Header.Values(HeaderLogicalCluster),
			HeaderIdentityPool:                            req.Header.Values(HeaderIdentityPool),
		})
		where, code := r.where, r.code
		r.mu.Unlock()
		if strings.HasPrefix(req.URL.Path, "/redirect") {
			w.Header().Set("Location", where)
			w.WriteHeader(code)
			return
		}
		_, _ = io.WriteString(w, "[]")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) redirect(code int, where string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.code, r.where = code, where
}

func (r *recorder) headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.seen...)
}

func redirectTransport(t *testing.T) *Transport {
	tr, err := NewTransport(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: redirectToken, Expiry: time.Now().Add(time.Hour)}),
		&TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool, Base: &http.Transport{DisableKeepAlives: true}})
	require.NoError(t, err)
	return tr
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

// TestTransportDropsTokenOnCrossOriginRedirect: a client that follows
// redirects (a caller's http.Client over the Transport) must not carry
// the token, target-sr-cluster or Confluent-Identity-Pool-Id to another
// origin; another port of the same host is another origin.
//
// Fails before the origin check: the Transport added Authorization:
// Bearer to the redirected request, so the other server received the
// token (http.Client's own cross-host rule never applied, because the
// header was added below it).
func TestTransportDropsTokenOnCrossOriginRedirect(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		for name, host := range map[string]string{"other host": "localhost", "other port": "127.0.0.1"} {
			t.Run(fmt.Sprintf("%d/%s", code, name), func(t *testing.T) {
				t.Parallel()
				registry, other := newRecorder(t), newRecorder(t)
				registry.redirect(code, strings.Replace(other.URL, "127.0.0.1", host, 1)+"/subjects?token=x")
				c := &http.Client{Transport: redirectTransport(t)}
				resp, err := get(t, c, registry.URL+"/redirect")
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				require.Len(t, other.headers(), 1, "the redirect was followed")
				for k, v := range other.headers()[0] {
					assert.Empty(t, v, "%s reached another origin", k)
				}
				require.Len(t, registry.headers(), 1)
				assert.Equal(t, []string{"Bearer " + redirectToken}, registry.headers()[0]["Authorization"])
			})
		}
	}
}

// TestTransportKeepsTokenOnSameOriginRedirect: a redirect within the
// origin still carries the token, with NewHTTPClient and with a plain
// http.Client.
func TestTransportKeepsTokenOnSameOriginRedirect(t *testing.T) {
	t.Parallel()
	for name, client := range map[string]func(*testing.T) *http.Client{
		"NewHTTPClient": func(t *testing.T) *http.Client {
			c, err := NewHTTPClient(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: redirectToken, Expiry: time.Now().Add(time.Hour)}),
				&TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool})
			require.NoError(t, err)
			return c
		},
		"http.Client": func(t *testing.T) *http.Client { return &http.Client{Transport: redirectTransport(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			registry := newRecorder(t)
			registry.redirect(http.StatusTemporaryRedirect, "/subjects")
			resp, err := get(t, client(t), registry.URL+"/redirect")
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			require.Len(t, registry.headers(), 2)
			for _, h := range registry.headers() {
				assert.Equal(t, []string{"Bearer " + redirectToken}, h["Authorization"])
				assert.Equal(t, []string{testLSRC}, h.Values(HeaderLogicalCluster))
			}
		})
	}
}

// TestNewHTTPClientRefusesCrossOriginRedirect: NewHTTPClient does not
// follow a redirect to another origin at all.
//
// Fails before NewHTTPClient's redirect policy: the client followed the
// redirect and the other server received the token.
func TestNewHTTPClientRefusesCrossOriginRedirect(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			registry, other := newRecorder(t), newRecorder(t)
			registry.redirect(code, other.URL+"/subjects?token=never-quote-this")
			c, err := NewHTTPClient(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: redirectToken, Expiry: time.Now().Add(time.Hour)}), nil)
			require.NoError(t, err)
			_, err = get(t, c, registry.URL+"/redirect")
			require.Error(t, err)
			var re *RedirectError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, registry.URL, re.From)
			assert.Equal(t, other.URL, re.To)
			assert.Empty(t, other.headers(), "the other origin received a request")
			assert.NotContains(t, re.Error(), redirectToken)
			assert.NotContains(t, re.Error(), "never-quote-this")
		})
	}
}
