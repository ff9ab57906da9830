// Package cacheopts holds the one rule every source applies to the cache
// options its caller passes: copy them (the caller's value is never
// modified) and name the cache after the source unless the caller named
// it; and the label that tells the cache which kind of source it holds.
// Defaults and validation stay in oauthbearer.CacheOptions itself.
package cacheopts

import (
	"io"

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
	return &c
}

// Kind returns src labelled with kind, the fixed string per constructor
// that observers label metrics with next to the caller's Name:
// oauthbearer.NewCache reads it from the source's TokenSourceKind method.
// Invalidate and Close reach src when it has them.
func Kind(src oauthbearer.TokenSource, kind string) oauthbearer.TokenSource {
	return &kinded{TokenSource: src, kind: kind}
}

type kinded struct {
	oauthbearer.TokenSource
	kind string
}

func (k *kinded) TokenSourceKind() string { return k.kind }

func (k *kinded) Invalidate(rejected oauthbearer.Token) {
	oauthbearer.Invalidate(k.TokenSource, rejected)
}

func (k *kinded) Close() error {
	if c, ok := k.TokenSource.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
