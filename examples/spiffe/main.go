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
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/roundtrip"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
)

type config struct {
	bootstrap, topic, audience, spiffeID, address string
	offline, plaintext                            bool
}

func main() {
	var c config
	cli.Kafka(&c.bootstrap, &c.topic, &c.offline, "spiffe-demo", "a SPIFFE agent and real brokers")
	flag.StringVar(&c.audience, "audience", "kafka", "the JWT-SVID's audience: the listener's expected.audience")
	flag.StringVar(&c.spiffeID, "spiffe-id", "", "one of the workload's SPIFFE IDs, if it has several")
	flag.StringVar(&c.address, "address", "", "Workload API address (default: SPIFFE_ENDPOINT_SOCKET)")
	cli.Main("spiffe", &c, config.run)
}

func (c config) run(ctx context.Context, out io.Writer) error {
	if c.offline {
		env, err := offline.StartSPIFFE(c.topic)
		if err != nil {
			return err
		}
		defer env.Report(out)
		fmt.Fprintln(out, "offline: a SPIFFE Workload API emulator at", env.Address)
		c.bootstrap, c.plaintext, c.address, c.audience = env.Bootstrap, true, env.Address, env.Audience
	}
	src, err := spiffe.New(&spiffe.Options{Audience: c.audience, SPIFFEID: c.spiffeID, Address: c.address})
	if err != nil {
		return err
	}
	defer src.Close()
	// The Kafka client: the source becomes its SASL/OAUTHBEARER mechanism.
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...), kgo.SASL(mech), roundtrip.TLS(c.plaintext))
	if err != nil {
		return err
	}
	defer cl.Close()
	return roundtrip.Franz(ctx, out, cl, c.topic, []byte("authenticated by a JWT-SVID"))
}
