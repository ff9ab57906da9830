package azure_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ctxHandler notes, per message, whether the record was logged with a
// fetch's context (one carrying its recorder), which the cache's scrubbing
// handler needs to remove what the fetch sent.
type ctxHandler struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (h *ctxHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen[r.Message] = fetchrec.From(ctx) != nil
	return nil
}
func (h *ctxHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *ctxHandler) WithGroup(string) slog.Handler      { return h }

func (h *ctxHandler) withFetch(prefix string) (found, withCtx bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m, ok := range h.seen {
		if len(m) >= len(prefix) && m[:len(prefix)] == prefix {
			return true, ok
		}
	}
	return false, false
}

// TestLogsCarryTheFetchContext: the chain's choice and the v1-token
// warning are logged with the fetch's context.
//
// fails before they used InfoContext/WarnContext: the records came with
// context.Background, so the scrubbing handler found no recorder.
func TestLogsCarryTheFetchContext(t *testing.T) {
	t.Parallel()
	t.Run("default chain", func(t *testing.T) {
		t.Parallel()
		b := newWIBench(t, nil)
		h := &ctxHandler{seen: map[string]bool{}}
		src := opened(t)(azure.NewDefaultChain(&azure.DefaultChainOptions{
			Audience: "api://kafka", Getenv: getenv(b.env()), DisableInstanceDiscovery: true, DisableAzureCLI: true, Cache: &oauthbearer.CacheOptions{Logger: slog.New(h)},
			HTTPClient: withoutIMDS(b.entra.Client()), Retry: policy.RetryOptions{MaxRetries: -1},
		}))
		_, err := src.Token(ctx(t))
		require.NoError(t, err)
		found, withCtx := h.withFetch("azure: default chain chose")
		require.True(t, found)
		assert.True(t, withCtx)
	})
	t.Run("v1 warning", func(t *testing.T) {
		t.Parallel()
		m := idptest.NewIMDS(t, &idptest.IMDSOptions{V1Tokens: true})
		h := &ctxHandler{seen: map[string]bool{}}
		src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) { o.Cache = &oauthbearer.CacheOptions{Logger: slog.New(h)} })
		_, err := src.Token(ctx(t))
		require.NoError(t, err)
		found, withCtx := h.withFetch("azure: Microsoft Entra issued a v1")
		require.True(t, found)
		assert.True(t, withCtx)
	})
}
