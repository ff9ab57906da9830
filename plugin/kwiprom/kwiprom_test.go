package kwiprom_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiprom"
)

// TestMetricsOfTheScript drives a waited fetch, two failed background
// refreshes (503, then 401), a successful background retry, a broker's
// rejection and the invalidation, on the fake clock, and compares every
// metric, label set and value.
func TestMetricsOfTheScript(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := kwiprom.NewMetrics("kwi", kwiprom.Registerer(reg))
	env := obstest.New(t, m)
	env.Script(context.Background())
	for range 100 {
		_, err := env.Token() // the fast path records nothing
		require.NoError(t, err)
	}
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected)))
}

const expected = `
# HELP kwi_token_consecutive_failures Consecutive failed fetches (the largest among caches of the same labels).
# TYPE kwi_token_consecutive_failures gauge
kwi_token_consecutive_failures{kind="obstest idp",source="orders"} 0
# HELP kwi_token_fetch_duration_seconds Duration of token fetches from the identity provider.
# TYPE kwi_token_fetch_duration_seconds histogram
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.005"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.01"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.025"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.05"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.1"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.25"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="0.5"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="1"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="2.5"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="5"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="10"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="30"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="error",source="orders",le="+Inf"} 2
kwi_token_fetch_duration_seconds_sum{kind="obstest idp",outcome="error",source="orders"} 0
kwi_token_fetch_duration_seconds_count{kind="obstest idp",outcome="error",source="orders"} 2
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.005"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.01"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.025"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.05"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.1"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.25"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="0.5"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="1"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="2.5"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="5"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="10"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="30"} 3
kwi_token_fetch_duration_seconds_bucket{kind="obstest idp",outcome="success",source="orders",le="+Inf"} 3
kwi_token_fetch_duration_seconds_sum{kind="obstest idp",outcome="success",source="orders"} 0
kwi_token_fetch_duration_seconds_count{kind="obstest idp",outcome="success",source="orders"} 3
# HELP kwi_token_fetches_total Token fetches from the identity provider, by outcome, error type and whether callers waited (wait) or a token was served meanwhile (background).
# TYPE kwi_token_fetches_total counter
kwi_token_fetches_total{error_type="",kind="obstest idp",mode="background",outcome="success",source="orders"} 1
kwi_token_fetches_total{error_type="",kind="obstest idp",mode="wait",outcome="success",source="orders"} 2
kwi_token_fetches_total{error_type="http_5xx",kind="obstest idp",mode="background",outcome="error",source="orders"} 1
kwi_token_fetches_total{error_type="refused",kind="obstest idp",mode="background",outcome="error",source="orders"} 1
# HELP kwi_token_invalidations_total Tokens dropped after a server rejected them.
# TYPE kwi_token_invalidations_total counter
kwi_token_invalidations_total{kind="obstest idp",source="orders"} 1
# HELP kwi_token_next_retry_seconds Time until the next fetch attempt after failures; 0 when none is pending.
# TYPE kwi_token_next_retry_seconds gauge
kwi_token_next_retry_seconds{kind="obstest idp",source="orders"} 0
# HELP kwi_token_rejections_total Token rejections reported by the Kafka client adapters (broker status) and the Schema Registry transport (401).
# TYPE kwi_token_rejections_total counter
kwi_token_rejections_total{adapter="franzsasl",kind="obstest idp",source="orders",status="invalid_token"} 1
# HELP kwi_token_remaining_lifetime_seconds Time until the served token expires; 0 when none is held (the smallest among caches of the same labels).
# TYPE kwi_token_remaining_lifetime_seconds gauge
kwi_token_remaining_lifetime_seconds{kind="obstest idp",source="orders"} 3600
# HELP kwi_token_waits_total Calls that found no usable token and waited for a fetch.
# TYPE kwi_token_waits_total counter
kwi_token_waits_total{kind="obstest idp",source="orders"} 2
`

// TestGaugesWhileFailing: while background refreshes fail, the gauges
// show the failures, the pending retry and the remaining lifetime of the
// token still served.
func TestGaugesWhileFailing(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := kwiprom.NewMetrics("", kwiprom.Registerer(reg))
	env := obstest.New(t, m)
	_, err := env.Token()
	require.NoError(t, err)
	env.Next()
	env.FailNext(503)
	ev := env.AdvanceToRefresh()
	require.Error(t, ev.Err)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetType() == dto.MetricType_GAUGE {
			got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	require.Equal(t, 1.0, got["kwi_token_consecutive_failures"])
	require.Equal(t, env.Cache.Status().Expiry.Sub(env.Clock.Now()).Seconds(), got["kwi_token_remaining_lifetime_seconds"])
	require.Less(t, got["kwi_token_remaining_lifetime_seconds"], (obstest.TTL * 21 / 100).Seconds())
	require.Equal(t, ev.NextRetry.Sub(env.Clock.Now()).Seconds(), got["kwi_token_next_retry_seconds"])
	require.Positive(t, got["kwi_token_next_retry_seconds"])
}

// TestClosedCachesLeaveTheGauges: a closed cache's gauges are no longer
// reported, so a restarted component does not leave stale series.
func TestClosedCachesLeaveTheGauges(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := kwiprom.NewMetrics("kwi", kwiprom.Registerer(reg))
	env := obstest.New(t, m)
	require.Equal(t, 1, testutil.CollectAndCount(reg, "kwi_token_remaining_lifetime_seconds"))
	require.NoError(t, env.Cache.Close())
	require.Equal(t, 0, testutil.CollectAndCount(reg, "kwi_token_remaining_lifetime_seconds"))
}

// TestDefaultBucketsAreFresh: a caller changing the defaults it got
// changes nothing for the next caller. fails before DefaultBuckets was a
// function: it was an exported slice variable, shared by every
// NewMetrics of the process.
func TestDefaultBucketsAreFresh(t *testing.T) {
	t.Parallel()
	b := kwiprom.DefaultBuckets()
	want := append([]float64(nil), b...)
	b[0] = 99
	require.Equal(t, want, kwiprom.DefaultBuckets())
}
