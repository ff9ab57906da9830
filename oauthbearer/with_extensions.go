package oauthbearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// ExtensionSource attaches SASL/OAUTHBEARER extensions to every token of
// another source. Create it with [WithExtensions].
type ExtensionSource struct {
	src TokenSource
	ext map[string]string
}

var _ TokenSource = (*ExtensionSource)(nil)
var _ Invalidator = (*ExtensionSource)(nil)

// WithExtensions returns a source whose tokens carry ext in addition to
// any extensions src already sets (ext wins on a clash). The extensions
// are validated once, here, with [ValidateExtensions]: RFC 7628's syntax,
// which every broker shares, and nothing vendor-specific. For Confluent
// Cloud use confluent.WithExtensions, which also checks the shape of its
// cluster and identity pool IDs. Attaching them does not allocate when
// src's tokens carry none.
func WithExtensions(src TokenSource, ext map[string]string) (*ExtensionSource, error) {
	if src == nil {
		return nil, errors.New("oauthbearer: WithExtensions: the token source is nil; pass the source whose tokens carry the extensions")
	}
	if err := ValidateExtensions(ext); err != nil {
		return nil, err
	}
	return &ExtensionSource{src: src, ext: maps.Clone(ext)}, nil
}

// Token returns src's token with the extensions attached.
func (s *ExtensionSource) Token(ctx context.Context) (Token, error) {
	tok, err := s.src.Token(ctx)
	if err != nil || len(s.ext) == 0 {
		return tok, err
	}
	if len(tok.Extensions) == 0 {
		tok.Extensions = s.ext
		return tok, nil
	}
	merged := maps.Clone(tok.Extensions)
	maps.Copy(merged, s.ext)
	tok.Extensions = merged
	return tok, nil
}

// Extensions returns a copy of the attached extensions.
func (s *ExtensionSource) Extensions() map[string]string { return maps.Clone(s.ext) }

// Invalidate forwards to the wrapped source.
func (s *ExtensionSource) Invalidate(rejected Token) { Invalidate(s.src, rejected) }

// Close closes the wrapped source if it is an [io.Closer].
func (s *ExtensionSource) Close() error {
	if c, ok := s.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Format prints the extension keys only, for every verb. fmt cannot call the redacting methods of values held in unexported
// fields, so without this a verb such as %s would print the wrapped
// source's credentials or tokens.
func (s *ExtensionSource) Format(f fmt.State, _ rune) {
	if s == nil {
		_, _ = io.WriteString(f, "oauthbearer.ExtensionSource(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "oauthbearer.ExtensionSource(%q)", slices.Sorted(maps.Keys(s.ext)))
}
