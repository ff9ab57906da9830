package oauthbearer_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Fails before the expiry timer was removed: the stopped timer's closure
// kept the entry, and so the token, reachable from the closed cache.
func TestCacheCloseDropsEveryReferenceToTheToken(t *testing.T) {
	t.Parallel()
	var ref weak.Pointer[byte]
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		// A fresh, large (not tiny-allocated) value whose memory the
		// weak pointer tracks.
		v := strings.Repeat("x", 4096)
		ref = weak.Make(unsafe.StringData(v))
		return oauthbearer.Token{Value: v, Expiry: time.Now().Add(time.Hour)}, nil
	})
	c, err := oauthbearer.NewCache(src, nil) // the system clock: real timers
	require.NoError(t, err)
	_, err = c.Token(context.Background()) // the caller keeps no copy
	require.NoError(t, err)
	require.NotNil(t, ref.Value())
	require.NoError(t, c.Close())

	for range 5 {
		runtime.GC()
	}
	assert.Nil(t, ref.Value(), "the closed cache still references its token")
	runtime.KeepAlive(c)
}
