//go:build e2e

package kafkagosasl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

const e2eAudience = "kafka-e2e"

// TestRealBroker runs kafka-go against Apache Kafka validating tokens
// with the issuer's JWKS.
func TestRealBroker(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	b := kafkatest.Start(t, kafkatest.Options{JWKSURL: iss.JWKSURL, Issuer: iss.IssuerURL, Audience: e2eAudience})
	kafkatest.CreateTopic(context.Background(), t, b.AdminClient(t), "kg-orders", 1)

	t.Run("ProduceConsume", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		raw := &kafkatest.MintingSource{Issuer: iss, Audience: e2eAudience, TTL: 10 * time.Minute}
		cache, err := oauthbearer.NewCache(raw, nil)
		require.NoError(t, err)
		defer cache.Close()
		mech := must(kafkagosasl.Mechanism(cache, nil))
		mark := b.LogMark()

		transport := &kafka.Transport{SASL: mech}
		defer transport.CloseIdleConnections()
		w := &kafka.Writer{Addr: kafka.TCP(b.Addr), Topic: "kg-orders", Transport: transport,
			BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
		for i := range 3 {
			require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte{byte('a' + i)}}))
		}
		require.NoError(t, w.Close())

		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{b.Addr}, Topic: "kg-orders", Partition: 0, MaxWait: 100 * time.Millisecond,
			Dialer: &kafka.Dialer{SASLMechanism: mech, Timeout: 10 * time.Second},
		})
		var got []string
		for len(got) < 3 {
			m, err := r.ReadMessage(ctx)
			require.NoError(t, err)
			got = append(got, string(m.Value))
		}
		require.NoError(t, r.Close())
		assert.Equal(t, []string{"a", "b", "c"}, got)
		assert.EqualValues(t, 1, raw.Fetches(), "every connection used the cached token")
		line, err := b.WaitForLog(ctx, mark, "Successfully authenticate User=workload-1")
		require.NoError(t, err)
		t.Logf("broker: %s", line)
	})

	t.Run("RejectedTokenIsExplained", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		raw := &kafkatest.MintingSource{Issuer: iss, Audience: "not-kafka", TTL: 10 * time.Minute}
		cache, err := oauthbearer.NewCache(raw, nil)
		require.NoError(t, err)
		defer cache.Close()
		mark := b.LogMark()
		d := &kafka.Dialer{SASLMechanism: must(kafkagosasl.Mechanism(cache, nil)), Timeout: 10 * time.Second}
		_, err = d.DialContext(ctx, "tcp", b.Addr)
		var rej *oauthbearer.RejectedError
		require.True(t, errors.As(err, &rej), "got %v", err)
		assert.Equal(t, "invalid_token", rej.Status)
		assert.Contains(t, err.Error(), "expected.audience")
		line, err := b.WaitForLog(ctx, mark, "Audience (aud) claim [not-kafka]")
		require.NoError(t, err)
		t.Logf("broker: %s", line)

		// The rejected token was invalidated: the next dial fetches anew.
		_, err = d.DialContext(ctx, "tcp", b.Addr)
		require.Error(t, err)
		assert.EqualValues(t, 2, raw.Fetches())
	})
}
