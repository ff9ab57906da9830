package saidcheck

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A server handler may register what a late, abandoned request carried
// while the cell's check runs; under -race this fails if Check reads the
// secrets outside the lock.
func TestCheckRunsBesideLateSecrets(t *testing.T) {
	c := New()
	c.Say("nothing secret was said here, only this line")
	for i := range 64 {
		c.Secret("early", "early-secret-value-"+strconv.Itoa(i))
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range 2000 {
			c.Secret("late", "late-secret-value-"+strconv.Itoa(i))
		}
	})
	for {
		c.Check(t)
		select {
		case <-done:
			wg.Wait()
			return
		default:
		}
	}
}

// Check fails when a piece of a secret was said, and names it by label.
func TestCheckFindsAPieceOfASecret(t *testing.T) {
	c := New()
	c.Secret("the client secret", "s3cr3t-0123456789abcdef-XYZ")
	c.Say("error: invalid_client (0123456789abcdef-XYZ)")
	ft := &recordingTB{TB: t}
	c.Check(ft)
	assert.True(t, ft.failed, "a 16-character piece of the secret was said")
	assert.NotContains(t, ft.msgs, "s3cr3t", "the failure must name the secret by label only")
}

type recordingTB struct {
	testing.TB
	failed bool
	msgs   string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs += format
	for _, a := range args {
		if s, ok := a.(string); ok {
			r.msgs += s
		}
	}
}
