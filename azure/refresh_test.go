package azure_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestManagedIdentityRefreshReachesIMDS: at the cache's refresh points
// IMDS receives a request and the cache holds the new token, at a 1-hour
// and a 24-hour lifetime. testing/synctest's fake
// clock drives the cache, azcore, MSAL and the emulator alike.
//
// Fails on main before the claims bypass: MSAL writes the token to its
// process-wide cache before it sets RefreshOn, so the refresh got the
// cached token back and IMDS saw one request until five minutes before
// expiry.
func TestManagedIdentityRefreshReachesIMDS(t *testing.T) {
	for _, life := range []time.Duration{time.Hour, 24 * time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			m := emu.NewIMDS(t, &emu.IMDSOptions{TokenLifetime: life})
			synctest.Test(t, func(t *testing.T) {
				src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
					// A scope of its own: MSAL's cache is process-wide.
					Target:     fmt.Sprintf("api://refresh-%s-%d", life, time.Now().UnixNano()),
					HTTPClient: m.InProcess(),
				})
				require.NoError(t, err)
				defer src.Close()
				assertRefreshReachesProvider(t, src, life, func() int { return len(m.Issued()) })
			})
		})
	}
}

// assertRefreshReachesProvider runs inside a synctest bubble. The first
// token's refresh point is spread over [20%, 82%] of its life; by 83% the
// provider has had a second request and the cache holds its token. That
// token refreshes at 80% ±2% of its life: no request before 77%, the
// third by 83%, and the cache holds a newly issued token each time.
func assertRefreshReachesProvider(t *testing.T, src *oauthbearer.Cache, life time.Duration, requests func() int) {
	t.Helper()
	first, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, requests())
	time.Sleep(life * 83 / 100)
	synctest.Wait()
	require.Equal(t, 2, requests(), "the first refresh (spread) reached the provider")
	second, err := src.Token(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, first.Value, second.Value, "the cache holds a newly issued token")
	fetched := second.Expiry.Add(-life)

	time.Sleep(time.Until(fetched.Add(life * 77 / 100)))
	synctest.Wait()
	assert.Equal(t, 2, requests(), "no request before the refresh point")
	time.Sleep(life * 6 / 100) // 83%
	synctest.Wait()
	assert.Equal(t, 3, requests(), "the refresh at 80%% of a %s life reached the provider", life)
	third, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, second.Value, third.Value, "the cache holds a newly issued token")
	assert.True(t, third.Expiry.After(second.Expiry))
}
