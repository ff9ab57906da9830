package leakcheck

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that keeps what VerifyNone reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func parked(stop chan struct{}) { <-stop }

func TestVerifyNoneReportsALeakedGoroutine(t *testing.T) {
	before := Current()
	stop := make(chan struct{})
	go parked(stop)
	defer close(stop)

	r := &recorder{TB: t}
	// Shorten nothing: the 5-second grace is the real one, so this test
	// also shows that a goroutine still parked after it is reported.
	VerifyNone(r, before)
	if assert.Len(t, r.msgs, 1) {
		assert.Contains(t, r.msgs[0], "leakcheck.parked")
		assert.Contains(t, r.msgs[0], "1 goroutine(s)")
	}
}

func TestVerifyNoneWaitsForGoroutinesThatEnd(t *testing.T) {
	before := Current()
	stop := make(chan struct{})
	go parked(stop)
	close(stop) // ends soon after: within the grace

	r := &recorder{TB: t}
	VerifyNone(r, before)
	assert.Empty(t, r.msgs)
}

func TestVerifyNoneIgnoresNamedFunctions(t *testing.T) {
	before := Current()
	stop := make(chan struct{})
	go parked(stop)
	defer close(stop)

	r := &recorder{TB: t}
	VerifyNone(r, before, "github.com/streamidentity/kafka-workload-identity/internal/leakcheck.parked")
	assert.Empty(t, r.msgs)
}
