//go:build cgo

package confluentkafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestConfluentFirstErrorCarriesTheCause is a producer that only uses
// delivery reports (it never reads Events nor calls Poll): Ready's first
// error, and the first delivery report's error passed through
// Refresher.Explain, carry the cause: the unreachable identity provider,
// the silent one, or the broker's rejection as an
// *oauthbearer.RejectedError (learnt from librdkafka's log channel).
//
// Fails before Ready's round trip, Options.Logs and Refresher.Explain:
// Ready returned nil for the rejected token (a token was set), the
// delivery report said only "Local: Message timed out", and Ready waited
// out its context for the unreachable identity provider and then quoted
// only "gave up waiting ... context deadline exceeded".
func TestConfluentFirstErrorCarriesTheCause(t *testing.T) {
	iss := emu.NewIssuer(t, nil)
	broker := kafkatest.NewFakeBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"orders"}})
	for _, tc := range kafkatest.FirstErrorCases(iss) {
		t.Run(tc.Name, func(t *testing.T) {
			p, err := kafka.NewProducer(config(broker.Addrs(), kafka.ConfigMap{
				"go.logs.channel.enable": true, "message.timeout.ms": 4000,
				"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
			}))
			require.NoError(t, err)
			defer p.Close()
			r, err := confluentkafka.NewRefresher(p, tc.Source(t), &confluentkafka.Options{
				FetchTimeout: 2 * time.Second, Logs: p.Logs(), ReadyTimeout: 3 * time.Second,
			})
			require.NoError(t, err)
			defer r.Close()

			// A generous deadline: the error must come from the
			// refresher, not from this context ending (except for the
			// silent IdP, whose cause is what still runs).
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			err = r.Ready(rctx)
			rcancel()
			require.Error(t, err, "Ready must not report success while no authentication succeeds")
			tc.Check(t, err)

			err = produce(ctx, p, "orders", []byte("x"))
			require.Error(t, err)
			require.NoError(t, ctx.Err(), "the test's deadline ended first: %v", err)
			tc.Check(t, r.Explain(err))
		})
	}
}
