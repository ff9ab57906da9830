// Command spiffe produces and consumes with franz-go using JWT-SVIDs from
// the SPIFFE Workload API (a SPIRE agent), for a Kafka cluster whose
// listener trusts the SPIRE bundle's keys, the server's jwt_issuer and an
// audience:
//
//	SPIFFE_ENDPOINT_SOCKET=unix:///run/spire/agent-sockets/spire-agent.sock \
//	go run ./examples/spiffe -audience kafka -bootstrap kafka:9093
//
// -offline runs the same code against a local Workload API emulator and
// local brokers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
)

type config struct {
	bootstrap, topic, audience, spiffeID, address string
	offline, plaintext                            bool
}

func main() {
	var c config
	flag.StringVar(&c.bootstrap, "bootstrap", os.Getenv("KAFKA_BOOTSTRAP"), "bootstrap servers, comma-separated (env KAFKA_BOOTSTRAP)")
	flag.StringVar(&c.topic, "topic", "spiffe-demo", "topic to produce to and consume from")
	flag.StringVar(&c.audience, "audience", "kafka", "the JWT-SVID's audience: the listener's expected.audience")
	flag.StringVar(&c.spiffeID, "spiffe-id", "", "one of the workload's SPIFFE IDs, if it has several")
	flag.StringVar(&c.address, "address", "", "Workload API address (default: SPIFFE_ENDPOINT_SOCKET)")
	flag.BoolVar(&c.offline, "offline", false, "run against a local Workload API emulator and local brokers")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "spiffe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, c config) error {
	if c.offline {
		env, err := offline.StartSPIFFE(c.topic)
		if err != nil {
			return err
		}
		defer env.Close()
		defer func() { fmt.Fprint(out, env.Summary()) }()
		fmt.Fprintln(out, "offline: a SPIFFE Workload API emulator at", env.Address)
		c.bootstrap, c.plaintext, c.address, c.audience = env.Bootstrap, true, env.Address, env.Audience
	}
	src, err := spiffe.New(&spiffe.Options{Audience: c.audience, SPIFFEID: c.spiffeID, Address: c.address})
	if err != nil {
		return err
	}
	defer src.Close()
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...), kgo.SASL(mech)}
	if !c.plaintext {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil { // fail fast on a refused SVID
		return err
	}
	rec := &kgo.Record{Topic: c.topic, Value: []byte("authenticated by a JWT-SVID")}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", c.topic, err)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	if fs := cl.PollFetches(ctx); fs.Err0() != nil {
		return fmt.Errorf("consuming from %s: %w", c.topic, fs.Err0())
	}
	fmt.Fprintf(out, "produced and consumed a record at partition %d offset %d\n", rec.Partition, rec.Offset)
	return nil
}
