package kafkagosasl_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/internal/syncbuf"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKafkaGoProducesAndConsumesWithCachedToken(t *testing.T) {
	s := kafkatest.NewSharedToken(t, 2)
	mech := must(kafkagosasl.Mechanism(s.Source, &kafkagosasl.Options{FetchTimeout: 5 * time.Second}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The Writer dials through a Transport, the Reader through a Dialer:
	// kafka-go's two connection paths.
	transport := &kafka.Transport{SASL: mech}
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{
		Addr: kafka.TCP(s.Broker.Addrs()...), Topic: "orders", Transport: transport,
		BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll,
	}
	for i := range 5 {
		require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte{byte('0' + i)}}))
	}
	require.NoError(t, w.Close())

	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.Broker.Addrs(), Topic: "orders", Partition: 0,
		Dialer:  &kafka.Dialer{SASLMechanism: mech, Timeout: 10 * time.Second},
		MaxWait: 50 * time.Millisecond,
	})
	var got []string
	for len(got) < 5 {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err)
		got = append(got, string(m.Value))
	}
	require.NoError(t, r.Close())
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got)
	s.Check(t, 2, "both the writer and the reader authenticated")
}

func TestKafkaGoRejectionIsActionableAndInvalidatesToken(t *testing.T) {
	rb := kafkatest.NewRejecting(t)
	var logs syncbuf.Buffer
	mech := must(kafkagosasl.Mechanism(rb.Cache, &kafkagosasl.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dialer := &kafka.Dialer{SASLMechanism: mech, Timeout: 5 * time.Second}

	paths := map[string]func() error{
		"Dialer": func() error {
			conn, err := dialer.DialContext(ctx, "tcp", rb.Broker.Addrs()[0])
			if err == nil {
				_ = conn.Close()
			}
			return err
		},
		"Transport": func() error {
			// A fresh Transport each time: a Transport keeps a failed
			// bootstrap's error until its MetadataTTL passes.
			transport := &kafka.Transport{SASL: mech}
			defer transport.CloseIdleConnections()
			client := &kafka.Client{Addr: kafka.TCP(rb.Broker.Addrs()...), Transport: transport}
			_, err := client.Metadata(ctx, &kafka.MetadataRequest{})
			return err
		},
	}
	for name, call := range paths {
		t.Run(name, func(t *testing.T) {
			rb.Reject.Store(true)
			rej := rb.CheckRejected(t, call())
			assert.Regexp(t, `^broker 127\.0\.0\.1:\d+$`, rej.Server, "names the broker")
			fetchesAfterRejection := rb.Raw.Fetches()

			rb.Reject.Store(false)
			require.NoError(t, call())
			rb.CheckReplaced(t, fetchesAfterRejection)
		})
	}
	assert.Contains(t, logs.String(), "status=JWT_PROCESSING_FAILED")
	assert.NotContains(t, logs.String(), "eyJ", "no token in the log")
}

func TestKafkaGoExpiredTokenRejectedByBroker(t *testing.T) {
	broker, src, check := kafkatest.ExpiredToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := &kafka.Dialer{SASLMechanism: must(kafkagosasl.Mechanism(src, nil))}
	_, err := d.DialContext(ctx, "tcp", broker.Addrs()[0])
	check(t, err)
}

func TestKafkaGoStartErrors(t *testing.T) {
	t.Parallel()
	hung := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
		<-ctx.Done() // kafka-go's Transport context has no deadline; the mechanism's must end this
		return oauthbearer.Token{}, oauthbearer.Transient(ctx.Err(), 0)
	})
	cases := map[string]struct {
		src     oauthbearer.TokenSource
		wantIs  error
		wantMsg string
	}{
		"fetch timeout": {src: hung, wantIs: context.DeadlineExceeded, wantMsg: "kafkagosasl: getting a token for broker 10.0.0.1:9093"},
		"source error": {
			src: oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
				return oauthbearer.Token{}, errors.New("imds: HTTP 400")
			}),
			wantMsg: "imds: HTTP 400",
		},
		"empty token": {src: oauthbearer.StaticTokenSource(oauthbearer.Token{}), wantMsg: "empty token"},
		"bad extension": {
			src: oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "a.b.c", Expiry: time.Now().Add(time.Hour),
				Extensions: map[string]string{"auth": "x"}}),
			wantMsg: `SASL extension "auth"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mech := must(kafkagosasl.Mechanism(tc.src, &kafkagosasl.Options{FetchTimeout: 20 * time.Millisecond}))
			ctx := kafkaSASLContext(context.Background())
			sm, ir, err := mech.Start(ctx)
			require.Error(t, err)
			assert.Nil(t, sm)
			assert.Nil(t, ir)
			assert.Contains(t, err.Error(), tc.wantMsg)
			assert.True(t, len(err.Error()) > len("kafkagosasl: ") && err.Error()[:len("kafkagosasl: ")] == "kafkagosasl: ")
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
		})
	}
}

func TestKafkaGoClientFirstMessage(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour),
		Extensions: map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"}})
	mech := must(kafkagosasl.Mechanism(src, &kafkagosasl.Options{AuthorizationID: "svc"}))
	assert.Equal(t, "OAUTHBEARER", mech.Name())
	sm, ir, err := mech.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "n,a=svc,\x01auth=Bearer h.p.s\x01identityPoolId=pool-2\x01logicalCluster=lkc-1\x01\x01", string(ir))
	done, resp, err := sm.Next(context.Background(), nil)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Nil(t, resp)
}

// kafkaSASLContext is the context kafka-go passes to Start: it carries the
// broker's address.
func kafkaSASLContext(ctx context.Context) context.Context {
	return sasl.WithMetadata(ctx, &sasl.Metadata{Host: "10.0.0.1", Port: 9093})
}

// must returns v, panicking on err: for constructors that fail only on a
// nil token source, which these tests never pass.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNilSourceIsAnError: a nil source fails at construction, naming the
// function. Fails before the change: the constructor returned a value
// that panicked (nil interface call) on the first connection.
