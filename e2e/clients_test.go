//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// countingSource sits between a token source and one client's adapter:
// it counts what the client asked for (one call per authentication,
// re-authentications included) and remembers the kid and extensions of
// what it handed out. Invalidate is forwarded, so the adapter's
// invalidation still reaches the cache underneath.
type countingSource struct {
	src    oauthbearer.TokenSource
	calls  atomic.Int64
	errs   atomic.Int64
	mu     sync.Mutex
	kids   map[string]int
	lastEx map[string]string
}

func newCountingSource(src oauthbearer.TokenSource) *countingSource {
	return &countingSource{src: src, kids: map[string]int{}}
}

func (c *countingSource) Token(ctx context.Context) (oauthbearer.Token, error) {
	c.calls.Add(1)
	tok, err := c.src.Token(ctx)
	if err != nil {
		c.errs.Add(1)
		return tok, err
	}
	c.mu.Lock()
	c.kids[jwtKid(tok.Value)]++
	c.lastEx = tok.Extensions
	c.mu.Unlock()
	return tok, nil
}

func (c *countingSource) Invalidate(rejected oauthbearer.Token) {
	oauthbearer.Invalidate(c.src, rejected)
}

// handedKid reports how many tokens signed with kid were handed out.
func (c *countingSource) handedKid(kid string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kids[kid]
}

func (c *countingSource) extensions() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastEx
}

// jwtKid returns the "kid" of a compact JWS header ("" if unreadable).
func jwtKid(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &h)
	return h.Kid
}

// franzClient is a franz-go client authenticating through this module's
// adapter.
func franzClient(t *testing.T, b *kafkatest.Broker, src oauthbearer.TokenSource, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return newClient(t, b, must(franzsasl.Mechanism(src, &franzsasl.Options{FetchTimeout: 10 * time.Second})), opts...)
}

// saramaConfig is a sarama configuration authenticating through this
// module's adapter p. Metadata retries are off so that a rejection at
// client creation is reported at once.
func saramaConfig(p *saramasasl.TokenProvider) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.ClientID = "kwi-e2e"
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
	cfg.Net.SASL.TokenProvider = p
	cfg.Metadata.Retry.Max = 0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Return.Errors = true
	return cfg
}

// produceConsumeClients are the clients the real-broker tables run each
// source through: franzProduceConsume and saramaProduceConsume.
var produceConsumeClients = []struct {
	name string
	run  func(ctx context.Context, t *testing.T, b *kafkatest.Broker, src oauthbearer.TokenSource, topic string, n int)
}{
	{"franz-go", franzProduceConsume},
	{"sarama", saramaProduceConsume},
}

// franzProduceConsume produces n records to a new topic and consumes
// them back with a consumer group, both through src.
func franzProduceConsume(ctx context.Context, t *testing.T, b *kafkatest.Broker, src oauthbearer.TokenSource, topic string, n int) {
	t.Helper()
	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), topic, 1)
	prod := franzClient(t, b, src)
	for i := range n {
		r := &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}
		require.NoError(t, prod.ProduceSync(ctx, r).FirstErr(), "produce %d", i)
	}
	cons := franzClient(t, b, src, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(topic+"-group"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < n {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed only %v before the deadline", got)
		for _, fe := range fs.Errors() {
			require.NoError(t, fe.Err, "fetch %s/%d", fe.Topic, fe.Partition)
		}
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
	}
	require.Equal(t, sequence(n), got)
}

// saramaProduceConsume is franzProduceConsume with sarama: a sync
// producer and a consumer group.
func saramaProduceConsume(ctx context.Context, t *testing.T, b *kafkatest.Broker, src oauthbearer.TokenSource, topic string, n int) {
	t.Helper()
	kafkatest.CreateTopic(ctx, t, b.AdminClient(t), topic, 1)
	p := must(saramasasl.NewTokenProvider(src, &saramasasl.Options{FetchTimeout: 10 * time.Second}))
	prod, err := sarama.NewSyncProducer([]string{b.Addr}, saramaConfig(p))
	require.NoError(t, p.Explain(err))
	defer func() { require.NoError(t, prod.Close()) }()
	for i := range n {
		_, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(strconv.Itoa(i))})
		require.NoError(t, p.Explain(err), "produce %d", i)
	}
	group, err := sarama.NewConsumerGroup([]string{b.Addr}, topic+"-group", saramaConfig(p))
	require.NoError(t, p.Explain(err))
	defer func() { require.NoError(t, group.Close()) }()
	h := &collectHandler{want: n, done: make(chan struct{})}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	consumeErr := make(chan error, 1)
	go func() {
		for cctx.Err() == nil {
			if err := group.Consume(cctx, []string{topic}, h); err != nil {
				consumeErr <- err
				return
			}
		}
		consumeErr <- nil
	}()
	select {
	case <-h.done:
	case err := <-group.Errors():
		t.Fatalf("consumer group: %v", p.Explain(err))
	case <-ctx.Done():
		t.Fatalf("consumed only %v before the deadline", h.values())
	}
	cancel()
	require.NoError(t, <-consumeErr)
	require.Equal(t, sequence(n), h.values()[:n])
}

// collectHandler is a sarama consumer-group handler that keeps record
// values and closes done once it has want of them.
type collectHandler struct {
	want int
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	got  []string
}

func (*collectHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*collectHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *collectHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.got = append(h.got, string(m.Value))
		if len(h.got) >= h.want {
			h.once.Do(func() { close(h.done) })
		}
		h.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func (h *collectHandler) values() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

func sequence(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}

// countLog counts the broker log lines after mark that contain substr.
func countLog(b *kafkatest.Broker, mark int64, substr string) int {
	n := 0
	for _, line := range strings.Split(b.LogSince(mark), "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// failedAuths counts the authentications and re-authentications the
// broker refused after mark; Kafka logs the two differently.
func failedAuths(b *kafkatest.Broker, mark int64) int {
	return countLog(b, mark, "Failed authentication") + countLog(b, mark, "Failed re-authentication")
}

// report logs a measurement with a fixed prefix, so the numbers are easy
// to find in -v output.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("E2E-REPORT "+format, args...)
}
