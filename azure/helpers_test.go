package azure_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

var targetSeq atomic.Int64

// uniqueTarget returns an audience no other test uses, because
// azidentity's managed-identity token cache is process-global.
func uniqueTarget(t *testing.T) string {
	return fmt.Sprintf("api://kafka-%d-%d", time.Now().UnixNano(), targetSeq.Add(1))
}

// fastRetry keeps azidentity's retries but with millisecond delays.
var fastRetry = policy.RetryOptions{MaxRetries: 6, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func newLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// assertNoSecrets fails if any secret appears in s.
func assertNoSecrets(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		require.NotEmpty(t, sec)
		assert.NotContains(t, s, sec, "a token or assertion leaked")
	}
}

// opened fails t unless a constructor returned a source, and closes the
// source when t ends: src := opened(t)(azure.NewManagedIdentity(o)).
func opened(t *testing.T) func(*oauthbearer.Cache, error) *oauthbearer.Cache {
	return func(src *oauthbearer.Cache, err error) *oauthbearer.Cache {
		t.Helper()
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return src
	}
}

// newManagedIdentity is a managed identity source on m, for an audience
// of its own, with fastRetry, after change (if not nil) edits its options.
func newManagedIdentity(t *testing.T, m *idptest.IMDS, change func(*azure.ManagedIdentityOptions)) *oauthbearer.Cache {
	t.Helper()
	o := &azure.ManagedIdentityOptions{Audience: uniqueTarget(t), HTTPClient: m.Client(), Retry: fastRetry}
	if change != nil {
		change(o)
	}
	return opened(t)(azure.NewManagedIdentity(o))
}

// sameTokenForAll has 200 goroutines ask src at once, checks that they
// all get the same token, and returns it.
func sameTokenForAll(t *testing.T, src oauthbearer.TokenSource) oauthbearer.Token {
	t.Helper()
	var wg sync.WaitGroup
	toks := make([]oauthbearer.Token, 200)
	errs := make([]error, 200)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = src.Token(ctx(t)) })
	}
	wg.Wait()
	for i := range toks {
		require.NoError(t, errs[i])
		assert.Equal(t, toks[0].Value, toks[i].Value)
	}
	return toks[0]
}
