// Package kwiprom records the token caches, adapters and Schema Registry
// transport of kafka-workload-identity as Prometheus metrics, in the
// manner of franz-go's plugin/kprom: a separate module, so only programs
// that want Prometheus compile client_golang. Pass a [Metrics] as the
// Observer of a source's cache options (every source constructor's Cache
// option) and serve [Metrics.Handler]; the package's examples show both.
//
// Everything is counted on the refresh path (a fetch, an invalidation, a
// rejection) and the gauges are read from [oauthbearer.Cache.Status] at
// scrape time: handing out a held token costs nothing more. Labels come
// from fixed sets and the names the program chose ([oauthbearer.CacheOptions]
// Name, whose defaults name at most an endpoint's origin): never from a
// token, a claim, a URL path or an error's text.
//
// # Metrics
//
// With namespace "kwi" (labels: source = CacheOptions.Name, kind = the
// source kind):
//
//	kwi_token_fetches_total{source,kind,outcome,error_type,mode}   counter
//	kwi_token_fetch_duration_seconds{source,kind,outcome}          histogram
//	kwi_token_remaining_lifetime_seconds{source,kind}              gauge
//	kwi_token_consecutive_failures{source,kind}                    gauge
//	kwi_token_next_retry_seconds{source,kind}                      gauge
//	kwi_token_invalidations_total{source,kind}                     counter
//	kwi_token_rejections_total{source,kind,adapter,status}         counter
//	kwi_token_waits_total{source,kind}                             counter
//
// outcome is "success" or "error"; error_type is empty on success, else
// one of oauthbearer's ErrorType values (connect, tls, timeout, refused,
// http_4xx, http_5xx, config, invalid_response, closed, other); mode is
// "wait" when callers had no usable token and waited, "background" when
// a token was being served meanwhile. adapter is the reporting package
// (franzsasl, saramasasl, confluentkafka, kafkagosasl, schemaregistry:
// the latter counts the 401s that made the transport refresh) and status
// the server's status from a fixed set. README.md's "Metrics and traces" table maps
// these to the OpenTelemetry names of plugin/kwiotel.
package kwiprom

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamidentity/kafka-workload-identity/internal/obsagg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Metrics is an [oauthbearer.Observer] that records Prometheus metrics.
// Set it as [oauthbearer.CacheOptions.Observer] of every cache to watch;
// one Metrics serves any number of caches.
type Metrics struct {
	gatherer prometheus.Gatherer

	fetches       *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	invalidations *prometheus.CounterVec
	rejections    *prometheus.CounterVec
	waits         *prometheus.CounterVec
	remainingDesc *prometheus.Desc
	failuresDesc  *prometheus.Desc
	retryDesc     *prometheus.Desc

	caches obsagg.Set
}

var _ oauthbearer.Observer = (*Metrics)(nil)

// Opt configures [NewMetrics].
type Opt func(*options)

type options struct {
	reg      prometheus.Registerer
	gatherer prometheus.Gatherer
	buckets  []float64
}

// Registerer registers the metrics with reg, and Gatherer serves g from
// [Metrics.Handler]. Without them NewMetrics uses a registry of its own
// (never the global one).
func Registerer(reg prometheus.Registerer) Opt { return func(o *options) { o.reg = reg } }

// Gatherer sets what [Metrics.Handler] serves; see [Registerer].
func Gatherer(g prometheus.Gatherer) Opt { return func(o *options) { o.gatherer = g } }

// Buckets sets the fetch duration histogram's buckets, in seconds.
// Default: 0.005 s to 30 s (a fetch is bounded by the cache's
// FetchTimeout, 30 s by default).
func Buckets(b []float64) Opt { return func(o *options) { o.buckets = b } }

// DefaultBuckets returns the fetch duration histogram's default buckets,
// in seconds, as a new slice each call (to extend with [Buckets]).
func DefaultBuckets() []float64 { return obsagg.FetchBuckets() }

// NewMetrics returns metrics named namespace_token_... ("kwi" if empty),
// registered with the Registerer option's registry or a new one. It
// panics if the registry already holds metrics of these names, as
// prometheus.MustRegister does.
func NewMetrics(namespace string, opts ...Opt) *Metrics {
	if namespace == "" {
		namespace = "kwi"
	}
	o := options{buckets: DefaultBuckets()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.reg == nil {
		r := prometheus.NewRegistry()
		o.reg = r
		if o.gatherer == nil {
			o.gatherer = r
		}
	}
	if o.gatherer == nil {
		if g, ok := o.reg.(prometheus.Gatherer); ok {
			o.gatherer = g
		}
	}
	src := []string{"source", "kind"}
	with := func(extra ...string) []string { return append(append([]string{}, src...), extra...) }
	m := &Metrics{
		gatherer: o.gatherer,
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "token", Name: "fetches_total",
			Help: "Token fetches from the identity provider, by outcome, error type and whether callers waited (wait) or a token was served meanwhile (background)."},
			with("outcome", "error_type", "mode")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "token", Name: "fetch_duration_seconds",
			Help: "Duration of token fetches from the identity provider.", Buckets: o.buckets}, with("outcome")),
		invalidations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "token", Name: "invalidations_total",
			Help: "Tokens dropped after a server rejected them."}, src),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "token", Name: "rejections_total",
			Help: "Token rejections reported by the Kafka client adapters (broker status) and the Schema Registry transport (401)."}, with("adapter", "status")),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "token", Name: "waits_total",
			Help: "Calls that found no usable token and waited for a fetch."}, src),
		remainingDesc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "token", "remaining_lifetime_seconds"),
			"Time until the served token expires; 0 when none is held (the smallest among caches of the same labels).", src, nil),
		failuresDesc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "token", "consecutive_failures"),
			"Consecutive failed fetches (the largest among caches of the same labels).", src, nil),
		retryDesc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "token", "next_retry_seconds"),
			"Time until the next fetch attempt after failures; 0 when none is pending.", src, nil),
	}
	o.reg.MustRegister(m.fetches, m.duration, m.invalidations, m.rejections, m.waits, gauges{m})
	return m
}

// Handler serves the metrics in the Prometheus exposition format, from
// the registry NewMetrics created or the Gatherer option's.
func (m *Metrics) Handler() http.Handler {
	if m.gatherer == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "kwiprom: the Registerer option's registry is not a Gatherer; pass the Gatherer option to serve it", http.StatusInternalServerError)
		})
	}
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// CacheOpened implements [oauthbearer.Observer]: the cache's gauges are
// collected from now on, and its series start at zero.
func (m *Metrics) CacheOpened(c *oauthbearer.Cache) {
	m.caches.Add(c)
	s := c.Status()
	m.invalidations.WithLabelValues(s.Name, s.Kind)
	m.waits.WithLabelValues(s.Name, s.Kind)
}

// CacheClosed implements [oauthbearer.Observer]: the cache's gauges are
// no longer collected.
func (m *Metrics) CacheClosed(c *oauthbearer.Cache) {
	m.caches.Remove(c)
}

// FetchStarted implements [oauthbearer.Observer].
func (m *Metrics) FetchStarted(ctx context.Context, ev oauthbearer.FetchEvent) context.Context {
	return context.WithValue(ctx, labelsKey{}, [2]string{ev.Source, ev.Kind})
}

// labelsKey carries a fetch's labels to Waited.
type labelsKey struct{}

// FetchEnded implements [oauthbearer.Observer].
func (m *Metrics) FetchEnded(_ context.Context, ev oauthbearer.RefreshEvent) {
	outcome := "success"
	if ev.Err != nil {
		outcome = "error"
	}
	m.fetches.WithLabelValues(ev.Source, ev.Kind, outcome, ev.ErrorType, obsagg.Mode(ev.Background)).Inc()
	m.duration.WithLabelValues(ev.Source, ev.Kind, outcome).Observe(ev.Duration.Seconds())
}

// Waited implements [oauthbearer.Observer].
func (m *Metrics) Waited(_, fetch context.Context) {
	if l, ok := fetch.Value(labelsKey{}).([2]string); ok {
		m.waits.WithLabelValues(l[0], l[1]).Inc()
	}
}

// Invalidated implements [oauthbearer.Observer].
func (m *Metrics) Invalidated(ev oauthbearer.InvalidationEvent) {
	m.invalidations.WithLabelValues(ev.Source, ev.Kind).Inc()
}

// Rejected implements [oauthbearer.Observer].
func (m *Metrics) Rejected(ev oauthbearer.RejectionEvent) {
	m.rejections.WithLabelValues(ev.Source, ev.Kind, ev.Adapter, ev.Status).Inc()
}

// gauges collects the caches' state at scrape time.
type gauges struct{ m *Metrics }

func (g gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.m.remainingDesc
	ch <- g.m.failuresDesc
	ch <- g.m.retryDesc
}

func (g gauges) Collect(ch chan<- prometheus.Metric) {
	for _, a := range g.m.caches.Collect() {
		ch <- prometheus.MustNewConstMetric(g.m.remainingDesc, prometheus.GaugeValue, a.Remaining, a.Name, a.Kind)
		ch <- prometheus.MustNewConstMetric(g.m.failuresDesc, prometheus.GaugeValue, float64(a.Failures), a.Name, a.Kind)
		ch <- prometheus.MustNewConstMetric(g.m.retryDesc, prometheus.GaugeValue, a.Retry, a.Name, a.Kind)
	}
}
