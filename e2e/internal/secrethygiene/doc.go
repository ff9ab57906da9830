// Package secrethygiene is a test-only package: it runs every token source
// and adapter in the module with a debug-level slog logger (JSON and text
// handlers) through their success and error paths (wrong audience, 401s,
// tokens rejected by the in-process broker, malformed replies), collects
// every log line, every error formatted with %v, %+v and %#v, and the
// formatted values the library returns (also through YAML, XML,
// encoding.TextMarshaler and gob), runs every source against identity
// providers that echo the request in their errors and against panicking
// sources, and fails if a token, assertion,
// client secret, private key, AWS secret key or federated token, or any
// 16-character piece of one, appears in them.
//
//	go test ./internal/secrethygiene
package secrethygiene
