package oauthbearer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestValidateExtensions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		ext     map[string]string
		badKey  string
		message string
	}{
		"none":              {ext: nil},
		"confluent":         {ext: map[string]string{"logicalCluster": "lkc-abc123", "identityPoolId": "pool-XyZ,pool-2"}},
		"spaces and tabs":   {ext: map[string]string{"note": "a b\tc\r\nd"}},
		"reserved auth":     {ext: map[string]string{"auth": "x"}, badKey: "auth", message: "reserved"},
		"digit in key":      {ext: map[string]string{"cluster1": "x"}, badKey: "cluster1", message: "only ASCII letters"},
		"underscore in key": {ext: map[string]string{"logical_cluster": "x"}, badKey: "logical_cluster", message: "only ASCII letters"},
		"empty key":         {ext: map[string]string{"": "x"}, badKey: "", message: "empty"},
		"empty value":       {ext: map[string]string{"k": ""}, badKey: "k", message: "empty"},
		"control char":      {ext: map[string]string{"k": "a\x01b"}, badKey: "k", message: "printable ASCII"},
		"non-ascii":         {ext: map[string]string{"k": "café"}, badKey: "k", message: "printable ASCII"},
		"first sorted bad":  {ext: map[string]string{"zz9": "x", "aa9": "x", "ok": "y"}, badKey: "aa9", message: "only ASCII letters"},
	} {
		t.Run(name, func(t *testing.T) {
			err := oauthbearer.ValidateExtensions(tc.ext)
			if tc.message == "" {
				require.NoError(t, err)
				return
			}
			var ee *oauthbearer.ExtensionError
			require.True(t, errors.As(err, &ee), "got %v", err)
			assert.Equal(t, tc.badKey, ee.Key)
			assert.Contains(t, err.Error(), tc.message)
			assert.Contains(t, err.Error(), `"`+tc.badKey+`"`)
		})
	}
}

func TestWithExtensions(t *testing.T) { // not parallel: AllocsPerRun
	base := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t", Expiry: time.Now().Add(time.Hour), Extensions: map[string]string{"a": "1", "b": "2"}})
	src, err := oauthbearer.WithExtensions(base, map[string]string{"b": "3", "logicalCluster": "lkc-1"})
	require.NoError(t, err)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1", "b": "3", "logicalCluster": "lkc-1"}, tok.Extensions)

	_, err = oauthbearer.WithExtensions(base, map[string]string{"auth": "x"})
	require.ErrorContains(t, err, `"auth"`)

	plain := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "t", Expiry: time.Now().Add(time.Hour)})
	src, err = oauthbearer.WithExtensions(plain, map[string]string{"logicalCluster": "lkc-1"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() { _, _ = src.Token(context.Background()) })
	assert.Zero(t, allocs, "attaching extensions to a token without any does not allocate")
}

// TestWithExtensionsNilSource: fails before the change (WithExtensions
// returned a source that panicked on its first Token call).
func TestWithExtensionsNilSource(t *testing.T) {
	t.Parallel()
	_, err := oauthbearer.WithExtensions(nil, map[string]string{"logicalCluster": "lkc-1"})
	require.ErrorContains(t, err, "oauthbearer: WithExtensions: the token source is nil")
}
