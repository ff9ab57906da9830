// Package nofds runs a piece of a test with no file descriptor left, to
// show how code fails when it cannot open a socket or a file (Linux only).
package nofds
