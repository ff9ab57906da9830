package franzsasl_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/streamidentity/kafka-workload-identity/internal/mechtest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
)

// Unit tests of the mechanism's messages, with no broker: the round trips
// through the in-process broker and a real Apache Kafka broker are in the
// e2e module (e2e/integration/franzsasl), so that this module's go.mod
// needs nothing beyond franz-go.
func TestMechanism(t *testing.T) {
	mechtest.Run(t, "franzsasl", func(src oauthbearer.TokenSource) (mechtest.Mechanism, error) {
		m, err := franzsasl.Mechanism(src, nil)
		return mech{m}, err
	})
}

// mech drives a franz-go mechanism as franz-go does, for a broker named
// broker-1:9092.
type mech struct{ sasl.Mechanism }

func (m mech) Start(ctx context.Context) ([]byte, func([]byte) (bool, []byte, error), error) {
	s, first, err := m.Authenticate(ctx, "broker-1:9092")
	if err != nil {
		return first, nil, err
	}
	return first, s.Challenge, nil
}
