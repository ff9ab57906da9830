package confluent

import (
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/confluentid"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// SASL extension keys Confluent Cloud reads beside the token.
const (
	// ExtensionLogicalCluster carries the Kafka cluster ID (lkc-...).
	ExtensionLogicalCluster = "logicalCluster"
	// ExtensionIdentityPoolID carries the identity pool ID (pool-...), or
	// a comma-separated list of them.
	ExtensionIdentityPoolID = "identityPoolId"
)

// Extensions are Confluent Cloud's SASL/OAUTHBEARER extensions. Both are
// optional: Confluent Cloud can map a token to a cluster from the
// bootstrap server it arrived on, and to identity pools automatically
// (auto pool mapping), so omit a field rather than guess.
type Extensions struct {
	// LogicalCluster is the Kafka cluster ID, such as "lkc-w25n5g".
	LogicalCluster string
	// IdentityPoolID is an identity pool ID such as "pool-7yzk", or
	// several separated by commas ("pool-a1,pool-b2"); the broker then
	// grants the union of the pools' permissions.
	IdentityPoolID string
}

// Validate checks the IDs' shape (lkc-<alphanumerics>,
// pool-<alphanumerics>), so that a typo fails at start-up with the field
// named rather than as an opaque broker rejection. It is the same check
// client.properties' extension_logicalCluster and extension_identityPoolId
// get.
func (e Extensions) Validate() error {
	if err := confluentid.CheckPair(confluentid.KafkaCluster, "Extensions.LogicalCluster", e.LogicalCluster, "Extensions.IdentityPoolID", e.IdentityPoolID); err != nil {
		return fmt.Errorf("confluent: %w", err)
	}
	return nil
}

// Map returns the extensions as SASL extension key/value pairs, leaving
// out empty fields. It does not validate; see [Extensions.Validate].
func (e Extensions) Map() map[string]string {
	m := make(map[string]string, 2)
	if e.LogicalCluster != "" {
		m[ExtensionLogicalCluster] = e.LogicalCluster
	}
	if e.IdentityPoolID != "" {
		m[ExtensionIdentityPoolID] = e.IdentityPoolID
	}
	return m
}

// WithExtensions validates ext (RFC 7628's syntax and Confluent Cloud's
// ID shapes) and returns a source whose tokens carry them, built on
// [oauthbearer.WithExtensions] (so it forwards Invalidate and Close to
// src). Use it, not oauthbearer.WithExtensions, for Confluent Cloud: the
// core checks only the syntax every broker shares.
func WithExtensions(src oauthbearer.TokenSource, ext Extensions) (*oauthbearer.ExtensionSource, error) {
	if src == nil {
		return nil, fmt.Errorf("confluent: WithExtensions: the token source is nil; pass the source whose tokens carry the extensions")
	}
	if err := ext.Validate(); err != nil {
		return nil, err
	}
	return oauthbearer.WithExtensions(src, ext.Map())
}
