//go:build cgo

package confluentkafka_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// TestRefresherRefusesTokenThatBreaksFraming: librdkafka frames the value
// it is given, so a value from a non-cache source that would add SASL
// fields is never set; librdkafka is told why, without the value.
// fails before the Refresher called oauthbearer.ValidateToken: the value
// was set on the client.
func TestRefresherRefusesTokenThatBreaksFraming(t *testing.T) {
	t.Parallel()
	src := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: "h.p.s\x01logicalCluster=lkc-victim", Expiry: time.Now().Add(time.Hour)})
	c := newFakeClient()
	r, err := confluentkafka.NewRefresher(c, src, nil)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, "fail", c.next(t))
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Empty(t, c.set)
	require.Contains(t, c.failures[0], "not an RFC 6750 b64token")
	require.NotContains(t, c.failures[0], "lkc-victim")
}
