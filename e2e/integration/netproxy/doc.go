// Package netproxy tests where the module's HTTP requests go in an
// enterprise network: metadata servers (Azure IMDS, the GCE metadata
// server) are reached directly while a proxy is configured, and every
// source that calls a remote identity provider takes the client built by
// idpclient (a private CA, a proxy) and keeps the credential gate's
// guarantees on it.
package netproxy
