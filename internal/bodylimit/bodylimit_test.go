package bodylimit_test

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
)

func TestBody(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		size    int
		limit   int64
		wantErr bool
	}{
		"empty":          {0, 10, false},
		"under":          {9, 10, false},
		"exactly":        {10, 10, false},
		"one over":       {11, 10, true},
		"far over":       {1 << 20, 10, true},
		"zero limit":     {1, 0, true},
		"zero both":      {0, 0, false},
		"default, large": {bodylimit.Default + 1, bodylimit.Default, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := bodylimit.Body(io.NopCloser(strings.NewReader(strings.Repeat("x", tc.size))), tc.limit)
			got, err := io.ReadAll(b)
			if !tc.wantErr {
				require.NoError(t, err)
				assert.Len(t, got, tc.size)
				return
			}
			var le *bodylimit.Error
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.limit, le.Limit)
			assert.LessOrEqual(t, int64(len(got)), tc.limit, "never more than the limit is returned")
			assert.Contains(t, err.Error(), "larger than")
		})
	}
}
