// Package kwiotel records the token caches, adapters and Schema Registry
// transport of kafka-workload-identity with the OpenTelemetry metric and
// trace APIs, in the manner of franz-go's plugin/kotel: a separate module
// on the APIs only, so the program brings (and configures) the SDK. Build
// an [Observer] with [New] from the program's meter and tracer providers
// and pass it as the Observer of a source's cache options (every source
// constructor's Cache option); the package's examples show both.
//
// Counting happens on the refresh path and the gauges are observed from
// [oauthbearer.Cache.Status] at collection time, so handing out a held
// token costs nothing more. Attributes come from fixed sets and the
// names the program chose: never a token, a claim, a URL path or an
// error's text (a failed span's status description is the error type).
//
// # Metrics
//
// OpenTelemetry has no semantic convention for client-side token
// acquisition, so the token instruments are named under "kwi.token."
// (attributes kwi.source.name = CacheOptions.Name, kwi.source.kind);
// the identity-provider requests follow the HTTP client conventions:
//
//	kwi.token.fetches              counter   {fetch}        + kwi.fetch.outcome, kwi.fetch.mode, error.type
//	kwi.token.fetch.duration       histogram s              + kwi.fetch.outcome, error.type
//	kwi.token.remaining_lifetime   gauge     s
//	kwi.token.consecutive_failures gauge     {failure}
//	kwi.token.next_retry           gauge     s
//	kwi.token.invalidations        counter   {invalidation}
//	kwi.token.rejections           counter   {rejection}    + kwi.adapter, kwi.rejection.status
//	kwi.token.waits                counter   {wait}
//	http.client.request.duration   histogram s              http.request.method, server.address, server.port, http.response.status_code, error.type
//
// # Traces
//
// Each fetch is a span "kwi.token.fetch" (internal); each request the
// module's sources send to the identity provider during it is a client
// span named after the HTTP method, with the attributes above. A caller
// of Token that had to wait gets a link from its own span (the one in
// its context) to the fetch's.
package kwiotel

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamidentity/kafka-workload-identity/internal/obsagg"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/streamidentity/kafka-workload-identity/plugin/kwiotel"

// Observer is an [oauthbearer.Observer] and [oauthbearer.RequestObserver]
// recording OpenTelemetry metrics and spans. One Observer serves any
// number of caches.
type Observer struct {
	tracer trace.Tracer

	fetches, invalidations, rejections, waits metric.Int64Counter
	fetchDuration, requestDuration            metric.Float64Histogram
	remaining, nextRetry                      metric.Float64ObservableGauge
	failures                                  metric.Int64ObservableGauge
	reg                                       metric.Registration

	caches obsagg.Set
}

var (
	_ oauthbearer.Observer        = (*Observer)(nil)
	_ oauthbearer.RequestObserver = (*Observer)(nil)
)

// Opt configures [New].
type Opt func(*options)

type options struct {
	mp metric.MeterProvider
	tp trace.TracerProvider
}

// WithMeterProvider sets the meter provider; default the global one.
func WithMeterProvider(mp metric.MeterProvider) Opt { return func(o *options) { o.mp = mp } }

// WithTracerProvider sets the tracer provider; default the global one.
func WithTracerProvider(tp trace.TracerProvider) Opt { return func(o *options) { o.tp = tp } }

// New creates the instruments. Its error is the meter's (an invalid
// instrument), joined.
func New(opts ...Opt) (*Observer, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.mp == nil {
		o.mp = otel.GetMeterProvider()
	}
	if o.tp == nil {
		o.tp = otel.GetTracerProvider()
	}
	m := o.mp.Meter(ScopeName)
	ob := &Observer{tracer: o.tp.Tracer(ScopeName)}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	ob.fetches, err = m.Int64Counter("kwi.token.fetches", metric.WithUnit("{fetch}"),
		metric.WithDescription("Token fetches from the identity provider, by outcome, error type and whether callers waited."))
	add(err)
	ob.fetchDuration, err = m.Float64Histogram("kwi.token.fetch.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of token fetches from the identity provider."),
		metric.WithExplicitBucketBoundaries(obsagg.FetchBuckets()...))
	add(err)
	ob.invalidations, err = m.Int64Counter("kwi.token.invalidations", metric.WithUnit("{invalidation}"),
		metric.WithDescription("Tokens dropped after a server rejected them."))
	add(err)
	ob.rejections, err = m.Int64Counter("kwi.token.rejections", metric.WithUnit("{rejection}"),
		metric.WithDescription("Token rejections reported by the Kafka client adapters and the Schema Registry transport."))
	add(err)
	ob.waits, err = m.Int64Counter("kwi.token.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Calls that found no usable token and waited for a fetch."))
	add(err)
	ob.requestDuration, err = m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	add(err)
	ob.remaining, err = m.Float64ObservableGauge("kwi.token.remaining_lifetime", metric.WithUnit("s"),
		metric.WithDescription("Time until the served token expires; 0 when none is held."))
	add(err)
	ob.nextRetry, err = m.Float64ObservableGauge("kwi.token.next_retry", metric.WithUnit("s"),
		metric.WithDescription("Time until the next fetch attempt after failures; 0 when none is pending."))
	add(err)
	ob.failures, err = m.Int64ObservableGauge("kwi.token.consecutive_failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Consecutive failed fetches."))
	add(err)
	if len(errs) == 0 {
		ob.reg, err = m.RegisterCallback(ob.observe, ob.remaining, ob.nextRetry, ob.failures)
		add(err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ob, nil
}

func sourceAttrs(name, kind string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("kwi.source.name", name), attribute.String("kwi.source.kind", kind)}
}

// CacheOpened implements [oauthbearer.Observer].
func (o *Observer) CacheOpened(c *oauthbearer.Cache) {
	o.caches.Add(c)
}

// CacheClosed implements [oauthbearer.Observer].
func (o *Observer) CacheClosed(c *oauthbearer.Cache) {
	o.caches.Remove(c)
}

// FetchStarted implements [oauthbearer.Observer]: it starts the fetch's
// span.
func (o *Observer) FetchStarted(ctx context.Context, ev oauthbearer.FetchEvent) context.Context {
	attrs := append(sourceAttrs(ev.Source, ev.Kind), attribute.String("kwi.fetch.mode", obsagg.Mode(ev.Background)))
	ctx, _ = o.tracer.Start(ctx, "kwi.token.fetch", trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, fetchLabels{}, attrs[:2])
}

// FetchEnded implements [oauthbearer.Observer]: it counts the fetch and
// ends its span.
func (o *Observer) FetchEnded(ctx context.Context, ev oauthbearer.RefreshEvent) {
	attrs := append(sourceAttrs(ev.Source, ev.Kind), attribute.String("kwi.fetch.outcome", "success"))
	span := trace.SpanFromContext(ctx)
	if ev.Err != nil {
		attrs[2] = attribute.String("kwi.fetch.outcome", "error")
		attrs = append(attrs, attribute.String("error.type", ev.ErrorType))
		span.SetAttributes(attribute.String("error.type", ev.ErrorType), attribute.Int("kwi.fetch.consecutive_failures", ev.Failures))
		span.SetStatus(codes.Error, ev.ErrorType)
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	o.fetchDuration.Record(ctx, ev.Duration.Seconds(), set)
	o.fetches.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(append(attrs, attribute.String("kwi.fetch.mode", obsagg.Mode(ev.Background)))...)))
	span.End()
}

// Waited implements [oauthbearer.Observer]: the caller's span links to
// the fetch's.
func (o *Observer) Waited(ctx, fetch context.Context) {
	sc := trace.SpanContextFromContext(fetch)
	o.waits.Add(ctx, 1, metric.WithAttributes(sourceAttrsFromSpan(fetch)...))
	if sc.IsValid() {
		trace.SpanFromContext(ctx).AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("kwi.link", "waited_for_fetch")}})
	}
}

// Invalidated implements [oauthbearer.Observer].
func (o *Observer) Invalidated(ev oauthbearer.InvalidationEvent) {
	o.invalidations.Add(context.Background(), 1, metric.WithAttributes(sourceAttrs(ev.Source, ev.Kind)...))
}

// Rejected implements [oauthbearer.Observer].
func (o *Observer) Rejected(ev oauthbearer.RejectionEvent) {
	o.rejections.Add(context.Background(), 1, metric.WithAttributes(append(sourceAttrs(ev.Source, ev.Kind),
		attribute.String("kwi.adapter", ev.Adapter), attribute.String("kwi.rejection.status", ev.Status))...))
}

type requestStart struct{}

type fetchLabels struct{}

// sourceAttrsFromSpan returns the fetch span's source attributes, kept in
// its context by FetchStarted's caller chain.
func sourceAttrsFromSpan(ctx context.Context) []attribute.KeyValue {
	if a, ok := ctx.Value(fetchLabels{}).([]attribute.KeyValue); ok {
		return a
	}
	return nil
}

// RequestStarted implements [oauthbearer.RequestObserver]: it starts the
// request's client span.
func (o *Observer) RequestStarted(ctx context.Context, r oauthbearer.RequestInfo) context.Context {
	ctx, _ = o.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", r.Method), attribute.String("server.address", r.ServerAddress),
		attribute.Int("server.port", r.ServerPort), attribute.String("url.scheme", r.Scheme)))
	return context.WithValue(ctx, requestStart{}, time.Now())
}

// RequestEnded implements [oauthbearer.RequestObserver]: it records the
// request's duration and ends its span.
func (o *Observer) RequestEnded(ctx context.Context, r oauthbearer.RequestInfo, res oauthbearer.RequestResult) {
	span := trace.SpanFromContext(ctx)
	attrs := []attribute.KeyValue{attribute.String("http.request.method", r.Method), attribute.String("server.address", r.ServerAddress), attribute.Int("server.port", r.ServerPort)}
	if res.StatusCode != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", res.StatusCode))
	}
	if res.ErrorType != "" {
		et := res.ErrorType
		if res.StatusCode >= 400 {
			et = strconv.Itoa(res.StatusCode) // the HTTP convention: the status code as error.type
		}
		attrs = append(attrs, attribute.String("error.type", et))
		span.SetStatus(codes.Error, et)
	}
	span.SetAttributes(attrs...)
	if start, ok := ctx.Value(requestStart{}).(time.Time); ok {
		o.requestDuration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
	}
	span.End()
}

// observe reports the caches' gauges.
func (o *Observer) observe(_ context.Context, ob metric.Observer) error {
	for _, g := range o.caches.Collect() {
		set := metric.WithAttributes(sourceAttrs(g.Name, g.Kind)...)
		ob.ObserveFloat64(o.remaining, g.Remaining, set)
		ob.ObserveFloat64(o.nextRetry, g.Retry, set)
		ob.ObserveInt64(o.failures, int64(g.Failures), set)
	}
	return nil
}

// Close unregisters the gauges' callback.
func (o *Observer) Close() error {
	if o.reg == nil {
		return nil
	}
	return o.reg.Unregister()
}
