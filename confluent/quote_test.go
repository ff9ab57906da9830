package confluent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestBadIDsQuotedThroughSrvtext: an ID the caller passed (often read
// from a file or the environment) is quoted escaped, clipped and without
// a URL's secrets, whatever it holds.
//
// Fails on main: the IDs were quoted whole with %q (a 1 MiB ID made a
// 1 MiB error; a pasted URL kept its password).
func TestBadIDsQuotedThroughSrvtext(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("lkc-x ", 200<<10)
	for name, err := range map[string]error{
		"huge cluster": Extensions{LogicalCluster: huge}.Validate(),
		"url pool":     Extensions{IdentityPoolID: "pool-a,https://u:pool-password-1@x/y?sig=pool-sig-1"}.Validate(),
		"sts pool": func() error {
			_, err := NewSTS(oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "v"}), &STSOptions{IdentityPoolID: "https://u:pool-password-1@x"})
			return err
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "confluent: ", "the option is named")
			assert.Less(t, len(err.Error()), 1024)
			assert.NotContains(t, err.Error(), "pool-password")
			assert.NotContains(t, err.Error(), "pool-sig")
		})
	}
}
