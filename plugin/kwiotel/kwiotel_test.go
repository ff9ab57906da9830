package kwiotel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiotel"
)

type point struct {
	unit  string
	attrs string
	value float64 // sum, gauge value, or histogram count
}

// collect flattens what the manual reader collected: metric name ->
// points.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, kwiotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{m.Unit, p.Attributes.Encoded(attribute.DefaultEncoder()), float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{m.Unit, p.Attributes.Encoded(attribute.DefaultEncoder()), float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{m.Unit, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{m.Unit, p.Attributes.Encoded(attribute.DefaultEncoder()), float64(p.Count)})
				}
			default:
				t.Fatalf("unexpected data of %s: %T", m.Name, m.Data)
			}
		}
	}
	return out
}

const src = "kwi.source.kind=obstest idp,kwi.source.name=orders"

// TestMetricsAndSpansOfTheScript drives a waited fetch, two failed
// background refreshes (503, then 401), a successful retry, a broker's
// rejection and the invalidation on the fake clock, and checks every
// instrument's name, unit, attributes and value, and the spans.
func TestMetricsAndSpansOfTheScript(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	obs, err := kwiotel.New(kwiotel.WithMeterProvider(mp), kwiotel.WithTracerProvider(tp))
	require.NoError(t, err)
	defer obs.Close()
	env := obstest.New(t, obs)

	// The first caller has a span: it must get a link to the fetch's.
	ctx, caller := tp.Tracer("app").Start(context.Background(), "produce")
	env.Script(ctx)
	caller.End()
	for range 100 {
		_, err := env.Token()
		require.NoError(t, err)
	}

	got := collect(t, reader)
	assert.ElementsMatch(t, []point{
		{"{fetch}", "error.type=http_5xx,kwi.fetch.mode=background,kwi.fetch.outcome=error," + src, 1},
		{"{fetch}", "error.type=refused,kwi.fetch.mode=background,kwi.fetch.outcome=error," + src, 1},
		{"{fetch}", "kwi.fetch.mode=background,kwi.fetch.outcome=success," + src, 1},
		{"{fetch}", "kwi.fetch.mode=wait,kwi.fetch.outcome=success," + src, 2},
	}, got["kwi.token.fetches"])
	assert.ElementsMatch(t, []point{
		{"s", "error.type=http_5xx,kwi.fetch.outcome=error," + src, 1},
		{"s", "error.type=refused,kwi.fetch.outcome=error," + src, 1},
		{"s", "kwi.fetch.outcome=success," + src, 3},
	}, got["kwi.token.fetch.duration"])
	assert.Equal(t, []point{{"{invalidation}", src, 1}}, got["kwi.token.invalidations"])
	assert.Equal(t, []point{{"{rejection}", "kwi.adapter=franzsasl,kwi.rejection.status=invalid_token," + src, 1}}, got["kwi.token.rejections"])
	assert.Equal(t, []point{{"{wait}", src, 2}}, got["kwi.token.waits"])
	assert.Equal(t, []point{{"s", src, obstest.TTL.Seconds()}}, got["kwi.token.remaining_lifetime"])
	assert.Equal(t, []point{{"s", src, 0}}, got["kwi.token.next_retry"])
	assert.Equal(t, []point{{"{failure}", src, 0}}, got["kwi.token.consecutive_failures"])
	var reqs []string
	for _, p := range got["http.client.request.duration"] {
		assert.Equal(t, "s", p.unit)
		reqs = append(reqs, p.attrs)
	}
	assert.Len(t, reqs, 3, "200, 503 and 401: %v", reqs)

	// Spans: one per fetch, one client span per request, children of
	// their fetch; the caller's span links to the first fetch.
	var fetchSpans, reqSpans int
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	var firstFetch trace.SpanContext
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "kwi.token.fetch":
			fetchSpans++
			if !firstFetch.IsValid() {
				firstFetch = s.SpanContext()
			}
		case "POST":
			reqSpans++
			assert.Equal(t, trace.SpanKindClient, s.SpanKind())
			parent, ok := byID[s.Parent().SpanID()]
			require.True(t, ok)
			assert.Equal(t, "kwi.token.fetch", parent.Name())
			attrs := attribute.NewSet(s.Attributes()...)
			v, _ := attrs.Value("server.address")
			assert.Equal(t, "127.0.0.1", v.AsString())
			_, ok = attrs.Value("http.response.status_code")
			assert.True(t, ok)
		}
	}
	assert.Equal(t, 5, fetchSpans)
	assert.Equal(t, 5, reqSpans)
	var produce sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "produce" {
			produce = s
		}
	}
	require.NotNil(t, produce)
	require.Len(t, produce.Links(), 1)
	assert.Equal(t, firstFetch.SpanID(), produce.Links()[0].SpanContext.SpanID())
}
