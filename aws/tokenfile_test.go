//go:build unix

package aws_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Fails on main: the SDK read AWS_WEB_IDENTITY_TOKEN_FILE with
// os.ReadFile, so a FIFO there blocked the fetch's goroutine for good (the
// fetch returned at its timeout, the goroutine outlived Close) and a huge
// file was read whole.
func TestDefaultChainWebIdentityTokenFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	huge := filepath.Join(dir, "huge")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 64<<20)) // sparse: no disk used
	for path, want := range map[string]string{fifo: "named pipe (FIFO)", huge: "67108864 bytes, more than the limit of 65536 bytes"} {
		e := newSTS(t, nil)
		snap := leakcheck.Current()
		setAWSEnv(t, map[string]string{"AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL_STS": e.URL, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
			"AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": path})
		src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"},
			Cache: &oauthbearer.CacheOptions{FetchTimeout: 2 * time.Second}})
		require.NoError(t, err)
		err = leakcheck.Returns(t, "Token", func() error { _, err := src.Token(context.Background()); return err })
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		require.NoError(t, src.Close())
		assert.Empty(t, e.Requests(), "nothing was sent")
		leakcheck.VerifyNone(t, snap)
	}
}
