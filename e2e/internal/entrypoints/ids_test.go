//go:build cgo

package entrypoints

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/internal/confluentid"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// idEntry is one setting that holds a Confluent Cloud ID; set builds the
// entry point with the setting set to v.
type idEntry struct {
	name    string
	setting string // as the error must name it
	kind    confluentid.Kind
	set     func(v string) error
}

func idEntries() []idEntry {
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "a.b.c", Expiry: time.Now().Add(time.Hour)})
	props := func(jaasExtra, line string) func(string) error {
		return func(v string) error {
			text := fmt.Sprintf(properties, strings.ReplaceAll(jaasExtra, "%v", v))
			if line != "" {
				text += line + "=" + v + "\n"
			}
			_, err := clientprops.Parse(strings.NewReader(text))
			return err
		}
	}
	return []idEntry{
		{"code: confluent.WithExtensions", "Extensions.LogicalCluster", confluentid.KafkaCluster, func(v string) error {
			_, err := confluent.WithExtensions(src, confluent.Extensions{LogicalCluster: v})
			return err
		}},
		{"code: confluent.WithExtensions", "Extensions.IdentityPoolID", confluentid.IdentityPools, func(v string) error {
			_, err := confluent.WithExtensions(src, confluent.Extensions{IdentityPoolID: v})
			return err
		}},
		{"code: confluent.NewSTS", "STSOptions.IdentityPoolID", confluentid.IdentityPool, func(v string) error {
			c, err := confluent.NewSTS(src, &confluent.STSOptions{IdentityPoolID: v})
			if err == nil {
				_ = c.Close()
			}
			return err
		}},
		{"client.properties", "extension_logicalCluster", confluentid.KafkaCluster, props("extension_logicalCluster='%v'", "")},
		{"client.properties", "extension_identityPoolId", confluentid.IdentityPools, props("extension_identityPoolId='%v'", "")},
		{"client.properties", "bearer.auth.identity.pool.id", confluentid.IdentityPools, props("", "bearer.auth.identity.pool.id")},
		{"client.properties", "bearer.auth.logical.cluster", confluentid.RegistryCluster, props("", "bearer.auth.logical.cluster")},
		{"adapter: schemaregistry.NewTransport", "TransportOptions.LogicalCluster", confluentid.RegistryCluster, func(v string) error {
			_, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{LogicalCluster: v})
			return err
		}},
		{"adapter: schemaregistry.NewTransport", "TransportOptions.IdentityPoolID", confluentid.IdentityPools, func(v string) error {
			_, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{IdentityPoolID: v})
			return err
		}},
		{"adapter: schemaregistry.NewHeaderProvider", "HeaderProviderOptions.LogicalCluster", confluentid.RegistryCluster, func(v string) error {
			_, err := schemaregistry.NewHeaderProvider(src, &schemaregistry.HeaderProviderOptions{LogicalCluster: v})
			return err
		}},
		{"adapter: schemaregistry.NewHeaderProvider", "HeaderProviderOptions.IdentityPoolID", confluentid.IdentityPools, func(v string) error {
			_, err := schemaregistry.NewHeaderProvider(src, &schemaregistry.HeaderProviderOptions{IdentityPoolID: v})
			return err
		}},
	}
}

// Every setting holding a Confluent Cloud ID accepts the same IDs and
// refuses the same typos with the same words, those of confluentid.Check,
// naming the setting as its user wrote it. Before, four packages each
// had their own copy of the rule and their own wording.
func TestEveryEntryPointChecksConfluentIDsTheSameWay(t *testing.T) {
	t.Parallel()
	valid := map[confluentid.Kind]string{confluentid.KafkaCluster: "lkc-w25n5g", confluentid.RegistryCluster: "lsrc-kjn9nv", confluentid.IdentityPool: "pool-7yzk", confluentid.IdentityPools: "pool-a1,pool-B2"}
	invalid := map[confluentid.Kind][]string{
		confluentid.KafkaCluster:    {"lkc w25n5g", "lkc-", "lsrc-kjn9nv", "lkc-a_b"},
		confluentid.RegistryCluster: {"lsrc kjn9nv", "lsrc-", "lkc-w25n5g"},
		confluentid.IdentityPool:    {"pol-7yzk", "pool-a1,pool-b2", "pool-"},
		confluentid.IdentityPools:   {"pol-7yzk", "pool-a1, pool-b2", "pool-a1,", "pool_1"},
	}
	for _, e := range idEntries() {
		t.Run(e.name+"/"+e.setting, func(t *testing.T) {
			require.NoError(t, e.set(valid[e.kind]), valid[e.kind])
			for _, v := range invalid[e.kind] {
				rule := errors.Unwrap(confluentid.Check(e.kind, e.setting, v)) // the reason
				require.Error(t, rule, v)
				err := e.set(v)
				require.Error(t, err, v)
				assert.Contains(t, err.Error(), e.setting)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", v))
				assert.Contains(t, err.Error(), rule.Error())
			}
		})
	}
}

// The core's WithExtensions checks RFC 7628's syntax only: values that
// are valid SASL but not Confluent IDs pass there, and are refused by
// confluent.WithExtensions.
func TestCoreWithExtensionsLeavesConfluentShapesToConfluent(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "a.b.c", Expiry: time.Now().Add(time.Hour)})
	ext := confluent.Extensions{LogicalCluster: "lkc w25n5g", IdentityPoolID: "pol-7yzk"}
	s, err := oauthbearer.WithExtensions(src, ext.Map())
	require.NoError(t, err)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ext.Map(), tok.Extensions)
	_, err = confluent.WithExtensions(src, ext)
	require.Error(t, err)
}
