// Package obsagg holds what the two observability plugins (kwiprom,
// kwiotel) report alike: the set of caches a plugin watches, reduced to
// one value per label set (name, kind) for the gauges, the fetch
// duration buckets and the wait/background mode of a fetch.
package obsagg

import (
	"sync"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Set is the caches an observer was told of and not yet told closed.
type Set struct {
	mu     sync.Mutex
	caches map[*oauthbearer.Cache]struct{}
}

// Add and Remove track a cache (from CacheOpened and CacheClosed).
func (s *Set) Add(c *oauthbearer.Cache) {
	s.mu.Lock()
	if s.caches == nil {
		s.caches = map[*oauthbearer.Cache]struct{}{}
	}
	s.caches[c] = struct{}{}
	s.mu.Unlock()
}

// Remove stops tracking c.
func (s *Set) Remove(c *oauthbearer.Cache) {
	s.mu.Lock()
	delete(s.caches, c)
	s.mu.Unlock()
}

// Gauges is the reduced state of the caches of one label set: the
// smallest remaining lifetime, the largest failure count and the longest
// wait until a retry, so that duplicates never hide a problem.
type Gauges struct {
	Name, Kind       string
	Remaining, Retry float64 // seconds
	Failures         int
}

// Collect reads every cache's [oauthbearer.Cache.Status] and reduces them.
func (s *Set) Collect() []Gauges {
	s.mu.Lock()
	caches := make([]*oauthbearer.Cache, 0, len(s.caches))
	for c := range s.caches {
		caches = append(caches, c)
	}
	s.mu.Unlock()
	type key struct{ name, kind string }
	idx := map[key]int{}
	var out []Gauges
	for _, c := range caches {
		st := c.Status()
		k := key{st.Name, st.Kind}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, Gauges{Name: st.Name, Kind: st.Kind, Remaining: st.Remaining.Seconds(), Retry: st.RetryIn.Seconds(), Failures: st.Failures})
			continue
		}
		g := &out[i]
		g.Remaining = min(g.Remaining, st.Remaining.Seconds())
		g.Failures = max(g.Failures, st.Failures)
		g.Retry = max(g.Retry, st.RetryIn.Seconds())
	}
	return out
}
