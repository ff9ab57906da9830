// Package cacheopts holds the one rule every source applies to the cache
// options its caller passes: copy them (the caller's value is never
// modified) and name the cache after the source unless the caller named
// it. Defaults and validation stay in oauthbearer.CacheOptions itself.
package cacheopts

import (
	"github.com/streamidentity/kafka-workload-identity/internal/obsctx"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// WithName returns a copy of o (nil: the zero options, which mean the
// defaults) whose Name is name unless o already has one.
func WithName(o *oauthbearer.CacheOptions, name string) *oauthbearer.CacheOptions {
	var c oauthbearer.CacheOptions
	if o != nil {
		c = *o
	}
	if c.Name == "" {
		c.Name = name
	}
	// name is also the source kind observers label metrics with: a fixed
	// string per constructor, whatever Name the caller chose.
	obsctx.SetKind(&c, name)
	return &c
}
