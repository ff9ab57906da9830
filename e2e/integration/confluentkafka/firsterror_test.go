//go:build cgo

package confluentkafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
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
	kafkatest.RunFirstErrorCases(t, func(t *testing.T, ctx context.Context, addrs []string, src oauthbearer.TokenSource, check func(error)) {
		p, err := kafka.NewProducer(config(addrs, kafka.ConfigMap{
			"go.logs.channel.enable": true, "message.timeout.ms": 4000,
			"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
		}))
		require.NoError(t, err)
		defer p.Close()
		r, err := confluentkafka.NewRefresher(p, src, &confluentkafka.Options{
			FetchTimeout: 2 * time.Second, Logs: p.Logs(), ReadyTimeout: 3 * time.Second,
		})
		require.NoError(t, err)
		defer r.Close()

		// Ready's own deadline is short: for the silent IdP, the cause
		// is what still runs when it ends.
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		err = r.Ready(rctx)
		rcancel()
		require.Error(t, err, "Ready must not report success while no authentication succeeds")
		check(err)

		err = produce(ctx, p, "orders", []byte("x"))
		require.Error(t, err)
		check(r.Explain(err))
	})
}
