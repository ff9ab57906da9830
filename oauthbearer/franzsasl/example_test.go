package franzsasl_test

import (
	"context"
	"log"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

// A franz-go client authenticating with tokens from any source. Ping
// fails fast at start-up (with an *oauthbearer.RejectedError when the
// broker refuses the token). (Compiled, not run: it needs a broker.)
func ExampleMechanism() {
	var src oauthbearer.TokenSource // for example from azure.NewManagedIdentity
	mech, err := franzsasl.Mechanism(src, nil)
	if err != nil {
		log.Fatal(err) // the source is nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers("broker:9093"),
		kgo.DialTLS(),
		kgo.SASL(mech),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		log.Fatal(err)
	}
}
