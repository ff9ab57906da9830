package secrethygiene

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiotel"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiprom"
)

// TestPluginsSayNoSecret: what the Prometheus and OpenTelemetry plugins
// record (a scrape; every metric data point, span name, attribute,
// status, event and link) for sources that succeed, fail on the provider,
// fail on a client secret, get rejected and invalidated, carries no piece
// of a token or a secret.
func TestPluginsSayNoSecret(t *testing.T) {
	c := newCollector()
	iss := idptest.NewIssuer(t, nil)
	reg := prometheus.NewRegistry()
	prom := kwiprom.NewMetrics("kwi", kwiprom.Registerer(reg))
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	otelObs, err := kwiotel.New(kwiotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		kwiotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	require.NoError(t, err)
	defer otelObs.Close()

	n := 0
	for _, obs := range []oauthbearer.Observer{prom, otelObs} {
		opts := func() *oauthbearer.CacheOptions {
			o := fastCache(c)
			o.Observer = obs
			return o
		}
		m := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: iss})
		mi := func() *oauthbearer.Cache {
			n++ // a target of its own: MSAL's token cache is process-wide
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: fmt.Sprintf("api://hygiene-plugins-%d-%d", time.Now().UnixNano(), n), Cache: opts(),
				HTTPClient: m.Client(), Retry: noRetry})
			require.NoError(t, err)
			return src
		}
		src := mi()
		tok, err := src.Token(tctx(t))
		require.NoError(t, err)
		c.secret("imds token", tok.Value)
		oauthbearer.ReportRejection(src, "franzsasl", tok.Value) // a status that is a token is not a label
		src.Invalidate(tok)
		use(t, c, "imds after invalidation", src)
		m.FailNext(1, idptest.Fault{Status: http.StatusInternalServerError})
		useErr(t, c, "imds 500", mi())
		for _, r := range m.Requests() {
			c.secret("imds-issued token", r.Token)
		}

		e := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss,
			Clients: map[string]idptest.OAuthClient{"hygiene-client": {Secret: clientSecret}}})
		cc, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: e.TokenURL, HTTPClient: e.Client(),
			ClientID: "hygiene-client", ClientSecret: clientSecret + "-wrong", Cache: opts()})
		require.NoError(t, err)
		c.secret("wrong client secret", clientSecret+"-wrong")
		useErr(t, c, "client credentials refused", cc)
	}

	rec := httptest.NewRecorder()
	prom.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), "kwi_token_fetches_total")
	c.say(rec.Body.String())
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	c.say(fmt.Sprintf("%+v", rm))
	require.NotEmpty(t, spans.Ended())
	for _, s := range spans.Ended() {
		c.say(fmt.Sprintf("%s %v %+v %+v %+v", s.Name(), s.Attributes(), s.Status(), s.Events(), s.Links()))
	}
	c.check(t)
}
