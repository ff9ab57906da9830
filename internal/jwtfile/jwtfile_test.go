package jwtfile

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
)

// A directory is refused in the same words at construction (Check) and
// at a fetch (Read); a file that does not exist yet is Read's error
// only.
func TestCheckWordsTheRefusalAsRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	checkErr := Check("tokenfile", "Options.Path", dir)
	require.ErrorIs(t, checkErr, boundedfile.ErrNotRegular)
	_, readErr := Read(context.Background(), "tokenfile", "Options.Path", dir, time.Now())
	require.Error(t, readErr)
	assert.Equal(t, readErr.Error(), checkErr.Error())
	assert.Contains(t, checkErr.Error(), "tokenfile: Options.Path "+`"`+dir+`": `)
	assert.Contains(t, checkErr.Error(), "point the setting at the token file itself")
	assert.NoError(t, Check("tokenfile", "Options.Path", filepath.Join(dir, "not-yet")))
}
