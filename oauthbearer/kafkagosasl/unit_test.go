package kafkagosasl_test

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go/sasl"

	"github.com/streamidentity/kafka-workload-identity/internal/mechtest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

// Unit tests of the mechanism's messages, with no broker: the round trips
// through the in-process broker and a real Apache Kafka broker are in the
// e2e module (e2e/integration/kafkagosasl), so that this module's go.mod
// needs nothing beyond kafka-go.
func TestMechanism(t *testing.T) {
	mechtest.Run(t, "kafkagosasl", func(src oauthbearer.TokenSource) (mechtest.Mechanism, error) {
		m, err := kafkagosasl.Mechanism(src, nil)
		return mech{m}, err
	})
}

// mech drives a kafka-go mechanism as kafka-go does.
type mech struct{ sasl.Mechanism }

func (m mech) Start(ctx context.Context) ([]byte, func([]byte) (bool, []byte, error), error) {
	sm, first, err := m.Mechanism.Start(ctx)
	if err != nil {
		return first, nil, err
	}
	return first, func(answer []byte) (bool, []byte, error) { return sm.Next(ctx, answer) }, nil
}
