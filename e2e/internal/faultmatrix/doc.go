// Package faultmatrix is a test-only package: one table-driven suite that
// runs every token source in the module against the oauthbearertest
// emulators under each identity-provider fault (throttling with and without
// Retry-After, server errors, IMDS 404/410, refused connections, hangs,
// trickled, malformed and oversized replies, and tokens with a missing,
// past, far-future or skewed expiry).
//
// Every cell primes the source's cache, injects the fault at refresh time
// (the cache runs on a fake clock, the emulators and SDKs on the real one),
// and records the outcome: whether the reply was accepted or the failure
// is transient (retried) or permanent (surfaced), the error's class, the
// requests the identity provider saw, that the cached token kept being
// served until its safety margin, and that after it transient failures are
// probed at the backoff's pace (permanent ones not at all). Expected outcomes are asserted per cell and the whole matrix is
// printed with t.Log:
//
//	go test -v -run TestFaultMatrix ./internal/faultmatrix
package faultmatrix
