package oauthbearer

import "fmt"

// MarshalText encodes the cache's name only, so YAML, XML and JSON print
// what fmt prints. Without it an encoder such as YAML's copies the whole
// struct by reflection, racing with the refresh goroutine.
func (c *Cache) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(c)), nil }

// MarshalText encodes what fmt prints: the wrapped source's name only.
func (s *ExtensionSource) MarshalText() ([]byte, error) { return []byte(fmt.Sprint(s)), nil }
