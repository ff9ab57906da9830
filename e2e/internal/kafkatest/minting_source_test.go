package kafkatest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

func TestMintingSource(t *testing.T) {
	t.Parallel()
	src := &kafkatest.MintingSource{Issuer: idptest.NewIssuer(t, nil), TTL: 90 * time.Second}
	assert.Empty(t, src.LastJTI())
	for i := range 3 {
		tok, err := src.Token(context.Background())
		require.NoError(t, err)
		parts := strings.Split(tok.Value, ".")
		require.Len(t, parts, 3)
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var c struct {
			Sub, Aud, JTI string
			Exp           int64
		}
		require.NoError(t, json.Unmarshal(payload, &c))
		assert.Equal(t, "workload-1", c.Sub)
		assert.Equal(t, "workload-1", tok.Principal)
		assert.Equal(t, "kafka", c.Aud)
		assert.Equal(t, c.Exp, tok.Expiry.Unix(), "Expiry is exactly the JWT's exp")
		assert.Zero(t, tok.Expiry.Nanosecond())
		assert.WithinDuration(t, time.Now().Add(90*time.Second), tok.Expiry, 2*time.Second)
		assert.Equal(t, c.JTI, src.LastJTI())
		assert.EqualValues(t, i+1, src.Fetches())
	}
}
