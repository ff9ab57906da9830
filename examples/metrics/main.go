// Command metrics serves Prometheus metrics of the token cache, the
// franz-go adapter and the Schema Registry transport at /metrics while it
// produces and consumes records, authenticated by an Azure managed
// identity, against the offline emulators (IMDS, brokers and a Schema
// Registry that validate every token):
//
//	go run ./examples/metrics -listen 127.0.0.1:9464 -linger 1m
//
// then curl http://127.0.0.1:9464/metrics, or point a Prometheus at it
// with the rules and dashboard of plugin/kwiprom/ops. -reject also runs a
// client against brokers that expect another audience, so that
// rejections show up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiprom"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

type config struct {
	listen  string
	records int
	rounds  int
	every   time.Duration
	linger  time.Duration
	reject  bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.listen, "listen", "127.0.0.1:9464", "address to serve /metrics on (keep it on loopback unless you mean otherwise)")
	flag.IntVar(&cfg.records, "records", 3, "records per round")
	flag.IntVar(&cfg.rounds, "rounds", 1, "rounds of produce and consume")
	flag.DurationVar(&cfg.every, "every", time.Second, "pause between rounds")
	flag.DurationVar(&cfg.linger, "linger", 0, "keep serving /metrics this long after the last round (Ctrl-C ends it)")
	flag.BoolVar(&cfg.reject, "reject", false, "also connect to brokers that reject the token (a wrong audience), to show rejections")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", cfg.listen)
	if err == nil {
		err = run(ctx, os.Stdout, ln, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

// run serves /metrics on ln and runs the rounds; it returns after linger.
func run(ctx context.Context, out io.Writer, ln net.Listener, cfg config) error {
	m := kwiprom.NewMetrics("kwi")
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(out, "serving metrics at http://%s/metrics\n", ln.Addr())

	env, mi, err := observedSource(&offline.Options{Topic: "metrics", SchemaRegistry: true}, "orders", m)
	if err != nil {
		return err
	}
	defer env.Close()
	defer mi.Close()

	hc, err := schemaregistry.NewHTTPClient(mi, &schemaregistry.TransportOptions{LogicalCluster: offline.RegistryCluster, IdentityPoolID: offline.IdentityPool})
	if err != nil {
		return err
	}
	reg, err := sr.NewClient(sr.URLs(env.RegistryURL), sr.HTTPClient(hc))
	if err != nil {
		return err
	}
	if _, err := reg.CreateSchema(ctx, "metrics-value", sr.Schema{Type: sr.TypeJSON, Schema: `{"type":"string"}`}); err != nil {
		return fmt.Errorf("registering a schema: %w", err)
	}

	src, err := confluent.WithExtensions(mi, env.Extensions())
	if err != nil {
		return err
	}
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.Bootstrap), kgo.SASL(mech), kgo.ConsumeTopics("metrics"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	for round := range cfg.rounds {
		if err := produceConsume(ctx, cl, round, cfg.records); err != nil {
			return err
		}
		fmt.Fprintf(out, "round %d: produced and consumed %s\n", round+1, offline.Plural(cfg.records, "record"))
		if round+1 < cfg.rounds {
			select {
			case <-time.After(cfg.every):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if cfg.reject {
		if err := rejected(ctx, m); err != nil {
			return err
		}
		fmt.Fprintln(out, "a broker expecting another audience rejected the token, as expected")
	}
	if cfg.linger > 0 {
		fmt.Fprintf(out, "serving metrics for %s more\n", cfg.linger)
		select {
		case <-time.After(cfg.linger):
		case <-ctx.Done():
		}
	}
	return nil
}

func produceConsume(ctx context.Context, cl *kgo.Client, round, n int) error {
	key := fmt.Appendf(nil, "metrics-%d-%d", time.Now().UnixNano(), round)
	for i := range n {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "metrics", Key: key, Value: fmt.Appendf(nil, "record %d", i+1)}).FirstErr(); err != nil {
			return fmt.Errorf("producing: %w", err)
		}
	}
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == string(key) {
				got++
			}
		})
	}
	return nil
}

// rejected connects a second source ("billing") to brokers that expect
// another audience: the broker's invalid_token is counted as a rejection
// and the token invalidated.
func rejected(ctx context.Context, m *kwiprom.Metrics) error {
	env, mi, err := observedSource(&offline.Options{Topic: "metrics", WrongAudience: true}, "billing", m)
	if err != nil {
		return err
	}
	defer env.Close()
	defer mi.Close()
	mech, err := franzsasl.Mechanism(mi, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.Bootstrap), kgo.SASL(mech))
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = cl.Ping(pctx)
	if _, ok := errors.AsType[*oauthbearer.RejectedError](err); !ok {
		return fmt.Errorf("expected a rejection from brokers expecting another audience, got %v", err)
	}
	return nil
}

// observedSource starts the emulators opts describes and an Azure managed
// identity source for them. The one change for metrics is
// CacheOptions.Observer: Name labels the series, and the source kind
// ("azure managed identity") is added.
func observedSource(opts *offline.Options, name string, m *kwiprom.Metrics) (*offline.Env, *oauthbearer.Cache, error) {
	env, err := offline.Start(offline.AzureManagedIdentity, opts)
	if err != nil {
		return nil, nil, err
	}
	mi, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
		Audience: env.Audience, HTTPClient: env.HTTPClient,
		Cache: &oauthbearer.CacheOptions{Name: name, Observer: m},
	})
	if err != nil {
		env.Close()
		return nil, nil, err
	}
	return env, mi, nil
}
