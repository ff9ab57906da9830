package confluentid

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k    Kind
		s    string
		want bool
	}{
		{KafkaCluster, "lkc-abc123", true}, {KafkaCluster, "lkc-", false}, {KafkaCluster, "lkc-a_b", false},
		{KafkaCluster, "lkc w25n5g", false}, {KafkaCluster, "", false}, {KafkaCluster, "pool-XyZ", false},
		{RegistryCluster, "lsrc-kjn9nv", true}, {RegistryCluster, "lkc-kjn9nv", false},
		{IdentityPool, "pool-XyZ", true}, {IdentityPool, "pool-a,pool-b", false}, {IdentityPool, "pol-7yzk", false},
		{IdentityPools, "pool-a,pool-B2", true}, {IdentityPools, "pool-a, pool-b", false}, {IdentityPools, "pool-a,", false},
	} {
		err := checkID(tc.k, tc.s)
		assert.Equal(t, tc.want, err == nil, "%d %q: %v", tc.k, tc.s, err)
	}
	assert.EqualError(t, checkID(IdentityPools, "pol-1"), "not an identity pool ID list; use an identity pool ID such as pool-7yzk, or several separated by commas without spaces")
}

func TestAtPointsAtTheFirstWrongID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 7, At(checkID(IdentityPools, "pool-a,pol-b,pool-c")))
	assert.Equal(t, 0, At(checkID(KafkaCluster, "lkc w25n5g")))
	assert.Equal(t, 0, At(nil))
}

func TestCheckPairNamesTheSettingAndKeepsTheReason(t *testing.T) {
	t.Parallel()
	assert.NoError(t, CheckPair(RegistryCluster, "C", "", "P", ""))
	assert.NoError(t, CheckPair(KafkaCluster, "C", "lkc-1", "P", "pool-a,pool-b"))
	err := CheckPair(RegistryCluster, "Opts.LogicalCluster", "lkc-1", "Opts.IdentityPoolID", "pool-a")
	fe, ok := errors.AsType[*FieldError](err)
	if assert.True(t, ok) {
		assert.Equal(t, "Opts.LogicalCluster", fe.Setting)
		assert.Equal(t, RegistryCluster, fe.Kind)
	}
	assert.Contains(t, err.Error(), `Opts.LogicalCluster is "lkc-1", not a Schema Registry cluster ID`)
	err = CheckPair(KafkaCluster, "C", "lkc-1", "P", "pool-a,bad")
	assert.Contains(t, err.Error(), `P is "pool-a,bad", not an identity pool ID list`)
	assert.Equal(t, len("pool-a,"), At(err))
}

// Check is the one-ID check every entry point calls: its error is a
// *FieldError naming the setting, with the value quoted around the
// first wrong ID, and an empty value is refused.
func TestCheckNamesTheSettingAndKind(t *testing.T) {
	t.Parallel()
	assert.NoError(t, Check(IdentityPool, "S", "pool-7yzk"))
	err := Check(IdentityPool, "STSOptions.IdentityPoolID", "pol-7yzk")
	fe, ok := errors.AsType[*FieldError](err)
	if assert.True(t, ok) {
		assert.Equal(t, "STSOptions.IdentityPoolID", fe.Setting)
		assert.Equal(t, IdentityPool, fe.Kind)
		assert.Equal(t, "pol-7yzk", fe.Value)
	}
	assert.EqualError(t, err, `STSOptions.IdentityPoolID is "pol-7yzk", not an identity pool ID; use one identity pool ID, such as pool-7yzk`)
	assert.Equal(t, checkID(IdentityPool, "pol-7yzk"), errors.Unwrap(err))
	assert.Error(t, Check(KafkaCluster, "S", ""), "an empty value is no ID")
	assert.Equal(t, len("pool-a,"), At(Check(IdentityPools, "P", "pool-a,pol-b")))
}
