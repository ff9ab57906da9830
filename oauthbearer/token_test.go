package oauthbearer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

const secretJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.U0VDUkVULVNJR05BVFVSRS1ET05PVExFQUs"

// assertNoSecret fails if s contains the token or a 16-byte piece of it.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for i := 0; i+16 <= len(secretJWT); i += 8 {
		if strings.Contains(s, secretJWT[i:i+16]) {
			t.Fatalf("%s leaks the token: %q", what, s)
		}
	}
}

func TestTokenNeverFormatsItsValue(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: secretJWT, Expiry: time.Unix(1_900_000_000, 0), Principal: "spiffe://x", Extensions: map[string]string{"logicalCluster": "lkc-1"}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		assertNoSecret(t, verb, fmt.Sprintf(verb, tok))
		assertNoSecret(t, verb+" (pointer)", fmt.Sprintf(verb, &tok))
		assertNoSecret(t, verb+" (in struct)", fmt.Sprintf(verb, struct{ T oauthbearer.Token }{tok}))
	}
	assertNoSecret(t, "String", tok.String())
	assertNoSecret(t, "GoString", tok.GoString())
	assert.Contains(t, tok.String(), "redacted")
	assert.Contains(t, tok.String(), "spiffe://x")

	js, err := json.Marshal(map[string]any{"token": tok})
	require.NoError(t, err)
	assertNoSecret(t, "json", string(js))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("got token", "token", tok, "ptr", &tok)
		l.Info("got token", slog.Any("token", tok))
	}
	assertNoSecret(t, "slog", buf.String())
	assert.Contains(t, buf.String(), "present")
}

// TestNoSecretInCacheLogsOrErrors drives the cache through success,
// failure, invalidation and closing with a debug logger, and checks that
// neither log records nor error strings contain the token.
func TestNoSecretInCacheLogsOrErrors(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	var fail atomic.Bool
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		if fail.Load() {
			return oauthbearer.Token{}, errors.New("idp: 500")
		}
		return oauthbearer.Token{Value: secretJWT, Expiry: time.Now().Add(time.Hour)}, nil
	})
	var mu sync.Mutex
	var events []string
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnRefresh: func(ev oauthbearer.RefreshEvent) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("%+v", ev))
		},
	})
	require.NoError(t, err)
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	c.Invalidate(tok)
	fail.Store(true)
	_, err = c.Token(context.Background())
	require.Error(t, err)
	assertNoSecret(t, "error", err.Error())
	assertNoSecret(t, "error %+v", fmt.Sprintf("%+v", err))
	require.NoError(t, c.Close())
	_, err = c.Token(context.Background())
	require.ErrorIs(t, err, oauthbearer.ErrClosed)

	assert.Contains(t, logs.String(), "token refreshed")
	assert.Contains(t, logs.String(), "invalidated")
	assertNoSecret(t, "logs", logs.String())
	mu.Lock()
	defer mu.Unlock()
	assertNoSecret(t, "events", strings.Join(events, "\n"))
}

func TestRejectedErrorIsActionable(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]string{
		"invalid_token":                "expected.audience",
		"JWT_PROCESSING_FAILED":        "accessTokenAcceptedVersion",
		"JWT_HEADER_KID_LOOKUP_FAILED": "JWKS",
		"something_else":               "broker or cluster log",
	} {
		err := error(&oauthbearer.RejectedError{Server: "broker 127.0.0.1:9092", Status: status})
		assert.Contains(t, err.Error(), fmt.Sprintf("status %q", status))
		assert.Contains(t, err.Error(), want)
		assert.False(t, oauthbearer.IsTransient(err), "a rejection is not retried with the same token")
	}
}
