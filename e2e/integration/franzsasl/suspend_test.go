package franzsasl_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// suspendedClock is the system's wall clock with timers that do not fire:
// what a cache sees while and after the machine sleeps, since Go's timers
// run on the monotonic clock, which stops during a suspend.
type suspendedClock struct{}

func (suspendedClock) Now() time.Time { return time.Now() }
func (suspendedClock) AfterFunc(time.Duration, func()) oauthbearer.Timer {
	return stoppedTimer{}
}

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return true }

// The story: after a suspend longer than the token's life, 10
// franz-go clients connect through one cache.
//
// Fails before the wall-clock check on the cache's fast path: the cache
// handed every client the token that expired during the suspend, and the
// broker rejected them.
func TestFranzGoAfterSuspendGetsAFreshToken(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", ClockSkew: -1})
	raw := &kafkatest.MintingSource{Issuer: iss, TTL: 3 * time.Second}
	cache, err := oauthbearer.NewCache(raw, &oauthbearer.CacheOptions{Clock: suspendedClock{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := cache.Token(ctx)
	require.NoError(t, err)

	// The suspend: real time passes the token's expiry, no timer fires.
	time.Sleep(time.Until(tok.Expiry.Add(time.Second)))

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(must(franzsasl.Mechanism(cache, nil))), kgo.RequestRetries(0))
			if !assert.NoError(t, err) {
				return
			}
			defer cl.Close()
			assert.NoError(t, cl.Ping(ctx))
		})
	}
	wg.Wait()
	assert.Zero(t, kafkatest.Rejections(broker), "clients presented the token that expired during the suspend")
	assert.EqualValues(t, 2, raw.Fetches(), "one fetch after the suspend for 10 clients")
}
