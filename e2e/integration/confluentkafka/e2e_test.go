//go:build e2e && cgo

package confluentkafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

const e2eAudience = "kafka-e2e"

// TestRealBroker runs librdkafka against Apache Kafka validating tokens
// with the issuer's JWKS, no clock skew allowed, and
// connections.max.reauth.ms at 3s, so every connection must re-authenticate
// (KIP-368) with a current token every few seconds.
func TestRealBroker(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	b := kafkatest.Start(t, kafkatest.Options{
		JWKSURL: iss.JWKSURL, Issuer: iss.IssuerURL, Audience: e2eAudience,
		ClockSkew: -1, Reauth: 3 * time.Second,
	})
	kafkatest.CreateTopic(context.Background(), t, b.AdminClient(t), "ck-orders", 1)

	t.Run("NeverPollingProducerOutlivesThreeTokenLifetimes", func(t *testing.T) {
		const ttl = 4 * time.Second
		raw := &kafkatest.MintingSource{Issuer: iss, Audience: e2eAudience, TTL: ttl}
		cache, err := oauthbearer.NewCache(raw, nil)
		require.NoError(t, err)
		defer cache.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()

		mark := b.LogMark()
		sent, start := produceForLifetimes(ctx, t, []string{b.Addr}, cache, "ck-orders", ttl, 100*time.Millisecond, 10000)
		t.Logf("%d messages over %v with %d tokens", sent, time.Since(start).Round(time.Millisecond), raw.Fetches())
		assert.GreaterOrEqual(t, raw.Fetches(), int64(4), "a fresh token in every lifetime")
		line, err := b.WaitForLog(ctx, mark, "REAUTH")
		require.NoError(t, err, "the broker saw a re-authentication")
		t.Logf("broker: %s", line)
		assert.NotContains(t, b.Log(), "no longer valid", "no expired token reached the broker")

		// The messages are there, read by a consumer that only calls
		// ReadMessage (which drops token refresh events).
		c, err := kafka.NewConsumer(config([]string{b.Addr}, kafka.ConfigMap{"group.id": "ck-g", "auto.offset.reset": "earliest"}))
		require.NoError(t, err)
		defer func() { assert.NoError(t, c.Close()) }()
		cr, err := confluentkafka.NewRefresher(c, cache, nil)
		require.NoError(t, err)
		defer cr.Close()
		require.NoError(t, c.Subscribe("ck-orders", nil))
		for got := 0; got < sent; got++ {
			_, err := c.ReadMessage(time.Until(deadline(ctx)))
			require.NoError(t, err, "after %d of %d messages", got, sent)
		}

		// And a standalone AdminClient, whose events nobody reads.
		a, err := kafka.NewAdminClient(config([]string{b.Addr}, nil))
		require.NoError(t, err)
		defer a.Close()
		ar, err := confluentkafka.NewRefresher(a, cache, nil)
		require.NoError(t, err)
		defer ar.Close()
		md, err := a.GetMetadata(nil, true, 30_000)
		require.NoError(t, err)
		assert.Contains(t, md.Topics, "ck-orders")
		line, err = b.WaitForLog(ctx, mark, "Successfully authenticate User=workload-1")
		require.NoError(t, err)
		t.Logf("broker: %s", line)
	})

	t.Run("RejectedTokenIsExplained", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		wrongAud := &kafkatest.MintingSource{Issuer: iss, Audience: "not-kafka", TTL: time.Hour}
		p, err := kafka.NewProducer(config([]string{b.Addr}, nil))
		require.NoError(t, err)
		defer p.Close()
		r, err := confluentkafka.NewRefresher(p, wrongAud, nil)
		require.NoError(t, err)
		defer r.Close()
		mark := b.LogMark()
		go func() { _ = produce(ctx, p, "ck-orders", []byte("never")) }()
		var rej *oauthbearer.RejectedError
		for rej == nil {
			select {
			case ev := <-p.Events():
				if !r.Handle(ev) {
					if e, ok := ev.(kafka.Error); ok {
						errors.As(confluentkafka.Explain(e), &rej)
					}
				}
			case <-ctx.Done():
				t.Fatal("no rejection reported")
			}
		}
		assert.Equal(t, "invalid_token", rej.Status)
		assert.Contains(t, rej.Error(), "expected.audience")
		line, err := b.WaitForLog(ctx, mark, "Audience (aud) claim [not-kafka]")
		require.NoError(t, err)
		t.Logf("broker: %s", line)
	})
}
