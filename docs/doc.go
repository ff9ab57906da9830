// Package docs holds the module's guides (troubleshooting.md). It has no
// code; its test checks that every link from the module's errors to the
// troubleshooting guide lands on an anchor that exists.
package docs
