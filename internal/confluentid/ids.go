// Package confluentid holds the one check of Confluent Cloud's resource ID
// shapes (lkc-..., lsrc-..., pool-...), shared by the confluent,
// schemaregistry and clientprops packages.
package confluentid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// Kind is a kind of Confluent Cloud resource ID that a setting holds.
type Kind int

// The kinds of ID the library's settings hold.
const (
	// KafkaCluster is a Kafka cluster ID, lkc-...
	KafkaCluster Kind = iota
	// RegistryCluster is a Schema Registry cluster ID, lsrc-...
	RegistryCluster
	// IdentityPool is exactly one identity pool ID, pool-...
	IdentityPool
	// IdentityPools is one or more identity pool IDs separated by commas
	// without spaces, as the identityPoolId extension carries them.
	IdentityPools
)

var kinds = [...]struct{ prefix, reason string }{
	KafkaCluster:    {"lkc-", "not a Kafka cluster ID; use the cluster's ID, such as lkc-w25n5g (see the cluster's settings in Confluent Cloud)"},
	RegistryCluster: {"lsrc-", "not a Schema Registry cluster ID; use the cluster's ID, such as lsrc-kjn9nv"},
	IdentityPool:    {"pool-", "not an identity pool ID; use one identity pool ID, such as pool-7yzk"},
	IdentityPools:   {"pool-", "not an identity pool ID list; use an identity pool ID such as pool-7yzk, or several separated by commas without spaces"},
}

// checkID is the one place Confluent Cloud's ID shapes are checked: an ID
// is its kind's prefix followed by one or more ASCII letters or digits,
// so that a typo ("pol-7yzk", "lkc w25n5g") fails at start-up rather than
// as an opaque broker rejection. It returns nil, or an *idError reading
// "not a ... ID; use ..." that holds the offset [At] reads.
func checkID(k Kind, s string) error {
	kind := kinds[k]
	if k != IdentityPools {
		if !validID(s, kind.prefix) {
			return &idError{reason: kind.reason}
		}
		return nil
	}
	at := 0
	for id := range strings.SplitSeq(s, ",") {
		if !validID(id, kind.prefix) {
			return &idError{reason: kind.reason, at: at}
		}
		at += len(id) + 1
	}
	return nil
}

type idError struct {
	reason string
	at     int
}

func (e *idError) Error() string { return e.reason }

// At is the byte offset, in the value [Check] refused with err, of the
// first ID that is wrong: the point to quote the value around
// (srvtext.Quote's at).
func At(err error) int {
	if e, ok := errors.AsType[*idError](err); ok {
		return e.at
	}
	return 0
}

// validID reports whether s is prefix followed by one or more ASCII
// letters or digits.
func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// FieldError is a [Check] (and so [CheckPair]) failure: the setting, as
// the entry point names it, whose value has the wrong shape. Entry points
// that name settings otherwise (client.properties keys and lines) pick
// their own name by Kind, and read Value, [At] and the reason
// ([errors.Unwrap]) to word their own message.
type FieldError struct {
	// Setting is the setting's name as the caller passed it.
	Setting string
	// Kind is the kind of ID the setting holds.
	Kind Kind
	// Value is the value as written.
	Value string
	err   error
}

// Error reads "<Setting> is <the value, quoted by srvtext.Quote around
// the first wrong ID>, <the reason>".
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s is %s, %v", e.Setting, srvtext.Quote(e.Value, At(e.err)), e.err)
}

// Unwrap returns the reason, "not a ... ID; use ...", which [At] reads.
func (e *FieldError) Unwrap() error { return e.err }

// Check is the one check of a Confluent Cloud ID a setting holds: value
// is kind's prefix followed by one or more ASCII letters or digits
// ([IdentityPools]: one or more such IDs separated by commas), so that a
// typo ("pol-7yzk", "lkc w25n5g") fails at start-up rather than as an
// opaque broker rejection. An empty value is refused too; callers for
// which the setting is optional skip it (as [CheckPair] does). It returns
// nil or a [*FieldError] naming setting, whose message reads
// "<setting> is <value>, not a ... ID; use ...".
func Check(k Kind, setting, value string) error {
	if err := checkID(k, value); err != nil {
		return &FieldError{Setting: setting, Kind: k, Value: value, err: err}
	}
	return nil
}

// CheckPair is the one check of a cluster ID and the identity pools that
// go with it, as Kafka's SASL extensions (cluster [KafkaCluster]) and the
// Schema Registry's headers (cluster [RegistryCluster]) carry them: each
// is optional; a value given passes [Check]. The first failure is
// Check's [*FieldError], naming clusterSetting (Kind cluster) or
// poolsSetting (Kind [IdentityPools]).
func CheckPair(cluster Kind, clusterSetting, clusterID, poolsSetting, pools string) error {
	for _, f := range []FieldError{{Setting: clusterSetting, Kind: cluster, Value: clusterID}, {Setting: poolsSetting, Kind: IdentityPools, Value: pools}} {
		if f.Value == "" {
			continue
		}
		if err := Check(f.Kind, f.Setting, f.Value); err != nil {
			return err
		}
	}
	return nil
}
