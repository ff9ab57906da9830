//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
)

// pair is one producer and one consumer group of the same client library
// running continuously: the producer sends a numbered sequence (keyed, so
// it spreads over the partitions) at a fixed interval, the consumer
// records what arrives. Every error either client hands the application
// is kept. stop ends production, waits until everything acknowledged has
// been consumed, and checks exactly-once, in-order delivery.
type pair struct {
	name string

	produced atomic.Int64 // records handed to the producer
	acked    atomic.Int64 // records the producer reported written

	mu       sync.Mutex
	appErrs  []error
	seen     map[int]int   // sequence number -> times consumed
	lastPart map[int32]int // partition -> last sequence consumed
	reorders int           // records consumed out of order within a partition

	stopProducing func() // stops the produce loop and waits for its acks
	stopConsuming func() // stops the consumer and closes the clients
}

func newPair(name string) *pair {
	return &pair{name: name, seen: map[int]int{}, lastPart: map[int32]int{}}
}

func (p *pair) appErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.appErrs) < 20 {
		p.appErrs = append(p.appErrs, err)
	} else if len(p.appErrs) == 20 {
		p.appErrs = append(p.appErrs, errors.New("(more errors dropped)"))
	}
}

// produceLoop hands send the next sequence number, and its text, every
// interval (counting it as produced) until the returned stop is called;
// stop waits for the loop to end.
func (p *pair) produceLoop(every time.Duration, send func(seq int, text string)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p.produced.Add(1)
			send(seq, strconv.Itoa(seq))
		}
	}()
	return func() { cancel(); <-done }
}

func (p *pair) consumed(partition int32, value []byte) {
	seq, err := strconv.Atoi(string(value))
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.appErrs = append(p.appErrs, fmt.Errorf("record value %q is not a sequence number", value))
		return
	}
	if last, ok := p.lastPart[partition]; ok && seq <= last {
		p.reorders++
	}
	p.lastPart[partition] = seq
	p.seen[seq]++
}

func (p *pair) distinctConsumed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// result is what a pair did, checked by finish.
type result struct {
	Produced, Acked, Consumed, Duplicates, Missing, Reorders int
	Errors                                                   []error
}

// finish stops production, waits up to drain for the consumer to catch
// up, stops it, and asserts that every record was acknowledged and
// consumed exactly once, in order per partition, with no error reaching
// the application.
func (p *pair) finish(t *testing.T, drain time.Duration) result {
	t.Helper()
	p.stopProducing()
	deadline := time.Now().Add(drain)
	for p.distinctConsumed() < int(p.acked.Load()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.stopConsuming()

	p.mu.Lock()
	defer p.mu.Unlock()
	r := result{Produced: int(p.produced.Load()), Acked: int(p.acked.Load()), Reorders: p.reorders, Errors: p.appErrs}
	for seq, n := range p.seen {
		r.Consumed += n
		if n > 1 {
			r.Duplicates += n - 1
		}
		if seq < 0 || seq >= r.Produced {
			r.Duplicates++ // a record nobody produced counts against exactly-once
		}
	}
	for seq := range r.Produced {
		if p.seen[seq] == 0 {
			r.Missing++
		}
	}
	assert.Empty(t, r.Errors, "%s: errors reached the application", p.name)
	assert.Positive(t, r.Produced, "%s: nothing was produced", p.name)
	assert.Equal(t, r.Produced, r.Acked, "%s: every record produced is acknowledged", p.name)
	assert.Zero(t, r.Missing, "%s: records never consumed", p.name)
	assert.Zero(t, r.Duplicates, "%s: records consumed more than once", p.name)
	assert.Zero(t, r.Reorders, "%s: records consumed out of order within a partition", p.name)
	return r
}

// startFranzPair starts a franz-go producer (through prodSrc) and consumer
// group (through consSrc) on topic, which must exist.
func startFranzPair(t *testing.T, b *kafkatest.Broker, prodSrc, consSrc oauthbearer.TokenSource, topic string, every time.Duration) *pair {
	t.Helper()
	p := newPair("franz-go " + topic)
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.SASL(must(franzsasl.Mechanism(prodSrc, nil))), kgo.DefaultProduceTopic(topic))
	require.NoError(t, err)
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.SASL(must(franzsasl.Mechanism(consSrc, nil))),
		kgo.ConsumeTopics(topic), kgo.ConsumerGroup(topic+"-group"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	require.NoError(t, err)

	stopLoop := p.produceLoop(every, func(seq int, s string) {
		v := []byte(s)
		prod.Produce(context.Background(), &kgo.Record{Key: v, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				p.appErr(fmt.Errorf("produce %d: %w", seq, err))
				return
			}
			p.acked.Add(1)
		})
	})
	p.stopProducing = sync.OnceFunc(func() {
		stopLoop()
		fctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := prod.Flush(fctx); err != nil {
			p.appErr(fmt.Errorf("flush: %w", err))
		}
	})

	cctx, ccancel := context.WithCancel(context.Background())
	cdone := make(chan struct{})
	go func() {
		defer close(cdone)
		for {
			fs := cons.PollFetches(cctx)
			if cctx.Err() != nil {
				return
			}
			fs.EachError(func(topic string, part int32, err error) {
				p.appErr(fmt.Errorf("fetch %s/%d: %w", topic, part, err))
			})
			fs.EachRecord(func(r *kgo.Record) { p.consumed(r.Partition, r.Value) })
		}
	}()
	p.stopConsuming = sync.OnceFunc(func() {
		ccancel()
		<-cdone
		prod.Close()
		cons.Close()
	})
	t.Cleanup(func() { p.stopProducing(); p.stopConsuming() })
	return p
}

// startSaramaPair starts a sarama idempotent sync producer (through
// prodSrc) and consumer group (through consSrc) on topic, which must
// exist. Errors go through the provider's Explain, as an application
// would pass them.
func startSaramaPair(t *testing.T, b *kafkatest.Broker, prodSrc, consSrc oauthbearer.TokenSource, topic string, every time.Duration) *pair {
	t.Helper()
	p := newPair("sarama " + topic)
	pp := must(saramasasl.NewTokenProvider(prodSrc, &saramasasl.Options{FetchTimeout: 10 * time.Second}))
	pcfg := saramaConfig(pp)
	pcfg.Metadata.Retry.Max = 3
	pcfg.Producer.Idempotent = true
	pcfg.Net.MaxOpenRequests = 1
	pcfg.Producer.Retry.Max = 10
	prod, err := sarama.NewSyncProducer([]string{b.Addr}, pcfg)
	require.NoError(t, pp.Explain(err))

	cp := must(saramasasl.NewTokenProvider(consSrc, &saramasasl.Options{FetchTimeout: 10 * time.Second}))
	ccfg := saramaConfig(cp)
	ccfg.Metadata.Retry.Max = 3
	group, err := sarama.NewConsumerGroup([]string{b.Addr}, topic+"-group", ccfg)
	require.NoError(t, cp.Explain(err))

	p.stopProducing = sync.OnceFunc(p.produceLoop(every, func(seq int, s string) {
		v := sarama.StringEncoder(s)
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: v, Value: v}); err != nil {
			p.appErr(fmt.Errorf("produce %d: %w", seq, pp.Explain(err)))
			return
		}
		p.acked.Add(1)
	}))

	cctx, ccancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		h := pairHandler{p}
		for cctx.Err() == nil {
			if err := group.Consume(cctx, []string{topic}, h); err != nil && cctx.Err() == nil {
				p.appErr(fmt.Errorf("consume: %w", cp.Explain(err)))
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for err := range group.Errors() {
			p.appErr(fmt.Errorf("consumer group: %w", cp.Explain(err)))
		}
	}()
	p.stopConsuming = sync.OnceFunc(func() {
		ccancel()
		if err := prod.Close(); err != nil {
			p.appErr(fmt.Errorf("producer close: %w", err))
		}
		if err := group.Close(); err != nil { // ends the Errors loop
			p.appErr(fmt.Errorf("group close: %w", err))
		}
		wg.Wait()
	})
	t.Cleanup(func() { p.stopProducing(); p.stopConsuming() })
	return p
}

type pairHandler struct{ p *pair }

func (pairHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (pairHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h pairHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.p.consumed(m.Partition, m.Value)
		s.MarkMessage(m, "")
	}
	return nil
}
