//go:build e2e

package e2e

import (
	"context"
	"math"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// The soak's policy. Tokens live a minute and are refreshed at half-life
// (±2% jitter), so a refresh that fails has 24 s of usable token left
// (the cache's safety margin is a tenth of the life, 6 s): room for the
// 20 s identity-provider outage. MaxBackoff keeps the retries after the
// outage quick.
const (
	soakTokenLife = 60 * time.Second
	soakRefresh   = 0.5
	soakJitter    = 0.02
	soakMargin    = soakTokenLife / 10
	soakOutage    = 20 * time.Second
	soakReauth    = 15 * time.Second
	soakMaxBack   = time.Second
	// outageLead is how long before a refresh is due the outage starts,
	// so that the refresh falls inside it whatever the jitter.
	outageLead = 3 * time.Second
)

// soakDuration is KWI_SOAK_DURATION (a Go duration; .ci/run sets 5m), or
// one minute so that a developer's run of the suite stays short.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("KWI_SOAK_DURATION")
	if v == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 30*time.Second {
		t.Fatalf("e2e: KWI_SOAK_DURATION is %q; set a Go duration of at least 30s, such as 5m", v)
	}
	return d
}

// refreshLog keeps the cache's refresh events.
type refreshLog struct {
	mu     sync.Mutex
	events []oauthbearer.RefreshEvent
	ok     chan oauthbearer.RefreshEvent // successful fetches, for the outage timer
}

func (l *refreshLog) add(e oauthbearer.RefreshEvent) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	if e.Err == nil {
		select {
		case l.ok <- e:
		default:
		}
	}
}

func (l *refreshLog) snapshot() []oauthbearer.RefreshEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]oauthbearer.RefreshEvent(nil), l.events...)
}

// TestRealBrokerSoak runs a franz-go and a sarama producer/consumer-group
// pair for KWI_SOAK_DURATION on AWS web identity tokens that live 60 s,
// against a broker that caps sessions at 15 s, so every busy connection
// re-authenticates many times, across several token refreshes. Halfway
// through, STS fails every request for 20 s, timed to swallow a refresh.
// Afterwards: every record consumed exactly once and in order per
// partition, no error seen by either application, no failed
// authentication at the broker, and as many token fetches as the refresh
// policy implies.
func TestRealBrokerSoak(t *testing.T) {
	soak := soakDuration(t)
	tr := newTrustRoot(t)
	b := tr.startBroker(t, kafkatest.Options{Reauth: soakReauth})

	rl := &refreshLog{ok: make(chan oauthbearer.RefreshEvent, 64)}
	cache := tr.awsWebIdentity(t, soakTokenLife, &oauthbearer.CacheOptions{
		Name: "soak aws web identity", RefreshFraction: soakRefresh, Jitter: soakJitter,
		MinBackoff: 250 * time.Millisecond, MaxBackoff: soakMaxBack, OnRefresh: rl.add,
	})
	src, err := oauthbearer.WithExtensions(cache, confluentExt.Map())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), soak+5*time.Minute)
	defer cancel()
	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), "soak-franz", 3)
	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), "soak-sarama", 3)

	counters := map[string]*countingSource{}
	for _, n := range []string{"franz-go producer", "franz-go consumer", "sarama producer", "sarama consumer"} {
		counters[n] = newCountingSource(src)
	}
	began := time.Now()
	franz := startFranzPair(t, b, counters["franz-go producer"], counters["franz-go consumer"], "soak-franz", 20*time.Millisecond)
	sar := startSaramaPair(t, b, counters["sarama producer"], counters["sarama consumer"], "soak-sarama", 20*time.Millisecond)

	// The outage starts outageLead before the k-th refresh is due, k
	// chosen so that this is about halfway through the soak. The fetch
	// before it (event k-1; event 0 is the first fetch) gives the due
	// time: its start plus RefreshFraction of the token's life. Not the
	// first fetch's: a token fetched while none was held refreshes at a
	// point spread below RefreshFraction (oauthbearer's spreadRefresh).
	k := max(2, int(math.Round(float64(soak/2+outageLead)/float64(time.Duration(soakRefresh*float64(soakTokenLife))))))
	var before oauthbearer.RefreshEvent
	for i := 0; i < k; i++ {
		select {
		case before = <-rl.ok:
		case <-ctx.Done():
			t.Fatalf("only %d of %d token fetches happened before the deadline", i, k)
		}
	}
	due := before.Start.Add(time.Duration(soakRefresh * float64(before.Expiry.Sub(before.Start))))
	outageStart := due.Add(-outageLead)
	time.Sleep(time.Until(outageStart))
	// STS fails every request (up to 1000, far more than the backoff
	// allows in 20 s) until ClearFaults.
	tr.sts.FailNext(1000, idptest.Fault{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "Service is unavailable"})
	outageStart = time.Now()
	require.True(t, outageStart.Before(due.Add(-time.Duration(soakJitter*float64(soakTokenLife)))),
		"the outage started too late to be sure to overlap the refresh")
	t.Logf("identity provider outage from %v into the soak (refresh due at %v)", outageStart.Sub(began).Round(time.Millisecond), due.Sub(began).Round(time.Millisecond))
	time.Sleep(soakOutage)
	tr.sts.ClearFaults()
	outageEnd := time.Now()
	t.Logf("identity provider back at %v; the token held during the outage was usable until %v",
		outageEnd.Sub(began).Round(time.Millisecond), before.Expiry.Add(-soakMargin).Sub(began).Round(time.Millisecond))
	require.True(t, outageEnd.Before(before.Expiry.Add(-soakMargin)), "the outage must end before the held token's usable life does")

	// Run for the soak duration, and at least a re-authentication cycle
	// past the outage.
	time.Sleep(time.Until(maxTime(began.Add(soak), outageEnd.Add(soakReauth))))
	ran := time.Since(began)
	fr := franz.finish(t, time.Minute)
	sr := sar.finish(t, time.Minute)
	ended := time.Now()

	// No client saw a failed token fetch or a rejection.
	for name, c := range counters {
		assert.Zero(t, c.errs.Load(), "%s got token errors", name)
	}
	assert.Zero(t, failedAuths(b, 0), "the broker refused an authentication")

	// The outage swallowed at least one refresh, every failure happened
	// in the background while the held token was served, and nothing
	// failed outside the outage.
	events := rl.snapshot()
	var fetches, failures int
	var first time.Time
	for _, e := range events {
		if e.Err == nil {
			if fetches == 0 {
				first = e.Start
			}
			fetches++
			continue
		}
		failures++
		assert.True(t, e.Background, "a failed fetch at %v made a caller wait", e.Start.Sub(began))
		assert.False(t, e.Start.Before(outageStart) || e.Start.After(outageEnd.Add(time.Second)),
			"a fetch failed at %v, outside the outage: %v", e.Start.Sub(began), e.Err)
	}
	assert.Positive(t, failures, "the outage did not overlap a refresh")

	// Fetches: successive successful fetches are RefreshFraction±Jitter of
	// the life apart (28.8 s to 31.2 s), except the one the outage delayed,
	// by at most the outage plus one backoff, and the first, whose refresh
	// is spread between a quarter of that and that. Over T seconds from
	// the first fetch that allows at most T/28.8+2 fetches and at least
	// (T - outage - backoff)/31.2 (the last interval may be unfinished).
	span := ended.Sub(first)
	minGap := time.Duration((soakRefresh - soakJitter) * float64(soakTokenLife))
	maxGap := time.Duration((soakRefresh + soakJitter) * float64(soakTokenLife))
	hi := int(span/minGap) + 2
	lo := int((span - soakOutage - soakMaxBack) / maxGap)
	assert.GreaterOrEqual(t, fetches, lo, "too few token fetches for the refresh policy")
	assert.LessOrEqual(t, fetches, hi, "too many token fetches for the refresh policy")

	// Re-authentications: the busiest connection of each client
	// re-authenticates at least every 15 s session, so the broker sees at
	// least one per session length per client over the run.
	reauths := countLog(b, 0, "REAUTH_PROCESS_HANDSHAKE")
	assert.GreaterOrEqual(t, reauths, 2*(int(ran/soakReauth)-1), "too few re-authentications")
	auths := countLog(b, 0, "Successfully authenticate User=")

	report(t, "soak: duration %v (KWI_SOAK_DURATION %v), outage %v from %v",
		ran.Round(time.Second), soak, outageEnd.Sub(outageStart).Round(time.Millisecond), outageStart.Sub(began).Round(time.Second))
	report(t, "soak: records franz-go produced %d / consumed %d, sarama produced %d / consumed %d; app errors %d",
		fr.Produced, fr.Consumed, sr.Produced, sr.Consumed, len(fr.Errors)+len(sr.Errors))
	report(t, "soak: token fetches %d ok + %d failed during the outage (policy allows %d..%d over %v); STS accepted %d calls",
		fetches, failures, lo, hi, span.Round(time.Second), len(tr.sts.Issued()))
	report(t, "soak: broker authentications %d, of which re-authentications %d; failed authentications %d",
		auths, reauths, failedAuths(b, 0))
	for _, n := range []string{"franz-go producer", "franz-go consumer", "sarama producer", "sarama consumer"} {
		report(t, "soak: %s asked for %d tokens", n, counters[n].calls.Load())
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
