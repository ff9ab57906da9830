package kwiotel_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiotel"
)

// Observe a cache with the program's meter and tracer providers.
func ExampleNew() {
	reader := sdkmetric.NewManualReader() // a program uses its exporter's reader
	spans := tracetest.NewSpanRecorder()
	obs, err := kwiotel.New(
		kwiotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		kwiotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		panic(err)
	}
	defer obs.Close()
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Name: "orders", Observer: obs})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Token(context.Background()); err != nil {
		panic(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name+" ("+m.Unit+")")
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(n)
	}
	fmt.Println("span:", spans.Ended()[0].Name())
	// Output:
	// kwi.token.consecutive_failures ({failure})
	// kwi.token.fetch.duration (s)
	// kwi.token.fetches ({fetch})
	// kwi.token.next_retry (s)
	// kwi.token.remaining_lifetime (s)
	// kwi.token.waits ({wait})
	// span: kwi.token.fetch
}
