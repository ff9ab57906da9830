//go:build cgo

package confluentkafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProducerConsumerAdminWithInProcessBroker runs the three client
// kinds the way applications that never handle token events do: the
// producer waits on per-message delivery channels (never Poll, never
// Events), the consumer uses ReadMessage (which drops refresh events), and
// the standalone AdminClient has no event queue reader at all.
func TestProducerConsumerAdminWithInProcessBroker(t *testing.T) {
	st := kafkatest.NewSharedToken(t, 0)
	broker, src := st.Broker, st.Source

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p, err := kafka.NewProducer(config(broker.Addrs(), nil))
	require.NoError(t, err)
	defer p.Close()
	pr, err := confluentkafka.NewRefresher(p, src, nil)
	require.NoError(t, err)
	defer pr.Close()
	require.NoError(t, pr.Ready(ctx))
	for i := range 5 {
		require.NoError(t, produce(ctx, p, "orders", []byte{byte('0' + i)}))
	}

	c, err := kafka.NewConsumer(config(broker.Addrs(), kafka.ConfigMap{
		"group.id": "g1", "auto.offset.reset": "earliest",
	}))
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close()) }()
	cr, err := confluentkafka.NewRefresher(c, src, nil)
	require.NoError(t, err)
	defer cr.Close()
	require.NoError(t, c.Subscribe("orders", nil))
	var got []string
	for len(got) < 5 {
		m, err := c.ReadMessage(time.Until(deadline(ctx)))
		require.NoError(t, err)
		got = append(got, string(m.Value))
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got)

	a, err := kafka.NewAdminClient(config(broker.Addrs(), nil))
	require.NoError(t, err)
	defer a.Close()
	ar, err := confluentkafka.NewRefresher(a, src, nil)
	require.NoError(t, err)
	defer ar.Close()
	md, err := a.GetMetadata(nil, true, int(time.Until(deadline(ctx)).Milliseconds()))
	require.NoError(t, err)
	assert.Contains(t, md.Topics, "orders")

	st.Check(t, 3, "producer, consumer and admin client authenticated")
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// TestNeverPollingProducerOutlivesThreeTokenLifetimes produces with
// 3-second tokens for more than three lifetimes. The broker allows no
// clock skew, caps each session at the token's remaining life and closes
// a connection whose session expired, so the producer keeps working only
// if librdkafka keeps getting fresh tokens and re-authenticates with them,
// although nothing ever reads its events.
func TestNeverPollingProducerOutlivesThreeTokenLifetimes(t *testing.T) {
	const ttl = 3 * time.Second
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"t"}, ClockSkew: -1,
	})
	raw := &kafkatest.MintingSource{Issuer: iss, TTL: ttl}
	cache, err := oauthbearer.NewCache(raw, nil)
	require.NoError(t, err)
	defer cache.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sent, start := produceForLifetimes(ctx, t, broker.Addrs(), cache, "t", ttl, 50*time.Millisecond, 5000)

	accepted := map[any]bool{}
	reauths := 0
	for _, a := range broker.Authentications() {
		require.True(t, a.Accepted, "conn %d (reauth %v) at %v: %s: %s", a.Conn, a.Reauth, a.Time.Sub(start), a.Reason, a.Detail)
		accepted[a.Claims["jti"]] = true
		if a.Reauth {
			reauths++
		}
	}
	t.Logf("%d messages over %v; %d token fetches, %d distinct tokens accepted, %d re-authentications, %d connections",
		sent, time.Since(start).Round(time.Millisecond), raw.Fetches(), len(accepted), reauths, broker.Connections())
	assert.GreaterOrEqual(t, len(accepted), 4, "a fresh token reached the broker in every lifetime")
	assert.Positive(t, reauths, "the connection re-authenticated (KIP-368)")
	assert.Zero(t, kafkatest.Rejections(broker))
}

// TestRejectionIsExplainedAndTokenReplaced is an application that reads
// the producer's Events channel and passes events to Handle: a rejection
// comes out of Explain as an actionable RejectedError, and the rejected
// token is invalidated and replaced without waiting for it to expire.
func TestRejectionIsExplainedAndTokenReplaced(t *testing.T) {
	rb := kafkatest.NewRejecting(t)
	broker, raw := rb.Broker, rb.Raw
	p, err := kafka.NewProducer(config(broker.Addrs(), kafka.ConfigMap{"reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200}))
	require.NoError(t, err)
	defer p.Close()
	r, err := confluentkafka.NewRefresher(p, rb.Cache, nil)
	require.NoError(t, err)
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rej *oauthbearer.RejectedError
	refreshEvents := 0
	for rej == nil {
		select {
		case ev := <-p.Events():
			if r.Handle(ev) {
				refreshEvents++
				continue
			}
			if e, ok := ev.(kafka.Error); ok {
				errors.As(confluentkafka.Explain(e), &rej)
			}
		case <-ctx.Done():
			t.Fatal("no rejection reported")
		}
	}
	rb.CheckRejected(t, rej)
	assert.Regexp(t, `^broker sasl_plaintext://127\.0\.0\.1:\d+/`, rej.Server)
	assert.Equal(t, 1, refreshEvents, "librdkafka's start-up refresh event was recognised")
	rejectedJTI := broker.Authentications()[0].Claims["jti"]

	rb.Reject.Store(false)
	done := make(chan error, 1)
	go func() { done <- produce(ctx, p, "t", []byte("after")) }()
	for {
		select {
		case ev := <-p.Events():
			r.Handle(ev)
			continue
		case err := <-done:
			require.NoError(t, err)
		}
		break
	}
	last := broker.Authentications()
	assert.True(t, last[len(last)-1].Accepted)
	assert.NotEqual(t, rejectedJTI, last[len(last)-1].Claims["jti"],
		"Handle invalidated the rejected (1-hour) token and a fresh one was fetched and set")
	assert.GreaterOrEqual(t, raw.Fetches(), int64(2))
}

// TestSourceFailureReachesTheApplication checks that a failing source is
// reported through librdkafka (an ERR__AUTHENTICATION event with the
// reason) and through Ready, and that the refresher recovers once the
// source does.
func TestSourceFailureReachesTheApplication(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{Issuer: iss, ExpectedAudience: "kafka", Topics: []string{"t"}})
	good := &kafkatest.MintingSource{Issuer: iss, TTL: time.Hour}
	healthy := make(chan struct{})
	src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		select {
		case <-healthy:
			return good.Token(ctx)
		default:
			return oauthbearer.Token{}, errors.New("imds: HTTP 400: identity not found; assign the identity to the VM")
		}
	})
	p, err := kafka.NewProducer(config(broker.Addrs(), nil))
	require.NoError(t, err)
	defer p.Close()
	r, err := confluentkafka.NewRefresher(p, src, &confluentkafka.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	require.NoError(t, err)
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ev := <-p.Events()
		if e, ok := ev.(kafka.Error); ok {
			assert.Equal(t, kafka.ErrAuthentication, e.Code())
			assert.Contains(t, e.Error(), "Failed to acquire SASL OAUTHBEARER token: confluentkafka: getting a token: imds: HTTP 400")
			assert.Equal(t, error(e), confluentkafka.Explain(e), "not a broker rejection")
			break
		}
	}
	rctx, rcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = r.Ready(rctx)
	rcancel()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "imds: HTTP 400")

	close(healthy)
	require.NoError(t, r.Ready(ctx))
	require.NoError(t, produce(ctx, p, "t", []byte("x")))
}
