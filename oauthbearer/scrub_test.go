package oauthbearer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestCacheScrubsWhatTheFetchSent: a source whose error quotes what its
// request sent (a library quoting an echoing server's reply), the token
// the cache holds and control characters; the cache's error, its log
// records and its events carry none of it, and the error still matches
// its cause. The source itself does no scrubbing: the cache is the one
// place.
func TestCacheScrubsWhatTheFetchSent(t *testing.T) {
	t.Parallel()
	const sent = "opaque-subject-token-value-7"
	clock := fakeclockNew()
	var logs bytes.Buffer
	held := oauthbearer.Token{Value: "held-token-value-abcdef", Expiry: epoch.Add(time.Hour)}
	calls := 0
	cause := errors.New("cause")
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		calls++
		if calls == 1 {
			return held, nil
		}
		fetchrec.Record(ctx, sent) // what the credential gate does for every request
		return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf("library: 400 Response: {\"error\":\"%s %s %s\"}\n\x1b[31mforged: %w",
			sent, url.QueryEscape(sent), held.Value, cause), 0)
	})
	events := make(chan oauthbearer.RefreshEvent, 8)
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnRefresh: func(e oauthbearer.RefreshEvent) { events <- e }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	<-events
	c.Invalidate(held)
	_, err = c.Token(context.Background())
	require.Error(t, err)
	ev := <-events
	for _, text := range []string{err.Error(), ev.Err.Error(), logs.String()} {
		assert.NotContains(t, text, sent)
		assert.NotContains(t, text, url.QueryEscape(sent))
		assert.NotContains(t, text, held.Value)
		assert.NotContains(t, text, "\x1b")
	}
	assert.Contains(t, err.Error(), "library: 400")
	assert.ErrorIs(t, err, cause)
	assert.True(t, oauthbearer.IsTransient(err), "the scrub keeps the chain")
}
