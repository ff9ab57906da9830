package tokenfile_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// jwtWith returns an unsigned-looking compact JWS with the given claims;
// the source does not verify signatures (the broker does).
func jwtWith(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".c2lnbmF0dXJlLXNlY3JldA"
}

func write(t *testing.T, path, content string) {
	t.Helper()
	// Write then rename, as the kubelet swaps a projected volume's files.
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// A rewritten file is served without a restart: the source re-reads it
// at least every PollInterval while the old token is still valid. Fails
// if the poll is removed (the cache would keep the first 1-hour token for
// 48 minutes) or if the source caches the file's content.
func TestRotationPickedUp(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	path := filepath.Join(t.TempDir(), "token")
	first := iss.Mint("pod-a", "kafka", time.Hour, nil)
	write(t, path, first+"\n")
	src, err := tokenfile.New(&tokenfile.Options{Path: path, PollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first, tok.Value, "trailing newline trimmed")
	assert.Equal(t, "pod-a", tok.Principal)

	second := iss.Mint("pod-a-rotated", "kafka", time.Hour, nil)
	write(t, path, second)
	require.Eventually(t, func() bool {
		tok, err := src.Token(context.Background())
		return err == nil && tok.Value == second
	}, 10*time.Second, 5*time.Millisecond)
}

// Every bad file is an error naming the setting and the path, matchable
// with errors.Is, that never quotes the content.
func TestBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secretish = "c2lnbmF0dXJlLXNlY3JldA"
	tests := map[string]struct {
		content *string
		setup   func(path string)
		want    error
	}{
		"missing":       {want: fs.ErrNotExist},
		"empty":         {content: ptr(" \n"), want: tokenfile.ErrEmpty},
		"expired":       {content: ptr(jwtWith(map[string]any{"sub": "a", "exp": time.Now().Add(-time.Minute).Unix()})), want: tokenfile.ErrExpired},
		"no exp":        {content: ptr(jwtWith(map[string]any{"sub": "a"})), want: tokenfile.ErrNoExpiry},
		"not a jwt":     {content: ptr("api-key " + secretish), want: tokenfile.ErrNotJWT},
		"opaque 3 part": {content: ptr("abc." + secretish + ".def"), want: tokenfile.ErrNotJWT},
		"too large":     {content: ptr(strings.Repeat("a", 64<<10+1)), want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if tc.content != nil {
				require.NoError(t, os.WriteFile(path, []byte(*tc.content), 0o600))
			}
			src, err := tokenfile.New(&tokenfile.Options{Path: path, Setting: "sasl.oauthbearer.token.endpoint.url"})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			_, err = src.Token(context.Background())
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			} else {
				assert.Contains(t, err.Error(), "too large")
			}
			assert.Contains(t, err.Error(), "sasl.oauthbearer.token.endpoint.url")
			assert.Contains(t, err.Error(), path)
			assert.NotContains(t, err.Error(), secretish)
			// Links to the guide; fails without the link in jwtfile.
			assert.Contains(t, err.Error(), "troubleshooting.md#token-file")
		})
	}
}

// A FIFO or directory is refused at construction without opening it for
// a blocking read. Fails if New reads with os.ReadFile (blocks forever
// on the FIFO).
func TestNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, p := range []string{dir, fifo} {
		_, err := tokenfile.New(&tokenfile.Options{Path: p})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a regular file")
		assertPathOptionError(t, err)
	}
	_, err := tokenfile.New(nil)
	assert.ErrorContains(t, err, "tokenfile.Options.Path is empty")
	assertPathOptionError(t, err)
}

// assertPathOptionError checks that err is the *oauthbearer.OptionError
// of tokenfile.Options.Path, the type PollInterval's refusal has too.
func assertPathOptionError(t *testing.T, err error) {
	t.Helper()
	oe, ok := errors.AsType[*oauthbearer.OptionError](err)
	require.True(t, ok, "%T %v", err, err)
	assert.Equal(t, "tokenfile.Options", oe.Options)
	assert.Equal(t, []string{"Path"}, oe.Fields)
}

// The cache's Token never touches the file: after the first read, removing
// the file changes nothing until the next scheduled refresh.
func TestFastPathDoesNotRead(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	path := filepath.Join(t.TempDir(), "token")
	write(t, path, iss.Mint("a", "kafka", time.Hour, nil))
	src, err := tokenfile.New(&tokenfile.Options{Path: path, Cache: &oauthbearer.CacheOptions{MaxLifetime: time.Hour}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	for range 100 {
		_, err = src.Token(context.Background())
		require.NoError(t, err)
	}
	assert.False(t, errors.Is(err, fs.ErrNotExist))
}

func ptr(s string) *string { return &s }
