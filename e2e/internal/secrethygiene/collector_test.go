package secrethygiene

import (
	"log/slog"
	"testing"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/saidcheck"
)

// collector is saidcheck's collector under the names these tests use.
type collector struct {
	*saidcheck.Collector
	log *slog.Logger
}

func newCollector() *collector {
	c := saidcheck.New()
	return &collector{Collector: c, log: c.Log}
}

func (c *collector) secret(label, v string) { c.Secret(label, v) }
func (c *collector) err(err error)          { c.Err(err) }
func (c *collector) value(v any)            { c.Value(v) }
func (c *collector) say(s string)           { c.Say(s) }
func (c *collector) check(t *testing.T)     { t.Helper(); c.Check(t) }
