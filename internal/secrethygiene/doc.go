// Package secrethygiene is a test-only package: it runs every token source
// and adapter in the module with a debug-level slog logger (JSON and text
// handlers) through their success and error paths (wrong audience, 401s,
// tokens rejected by the in-process broker, malformed replies), collects
// every log line, every error formatted with %v, %+v and %#v, and the
// formatted values the library returns, and fails if a token, assertion,
// client secret, private key, AWS secret key or federated token, or any
// 16-character piece of one, appears in them.
//
//	go test -run TestSecretHygiene ./internal/secrethygiene
package secrethygiene
