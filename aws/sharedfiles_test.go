//go:build unix

package aws

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isolate points the SDK's default configuration at an empty home, with
// static credentials and a region from the environment.
func isolate(t *testing.T) (home string) {
	home = t.TempDir()
	for k, v := range map[string]string{"HOME": home, "AWS_CONFIG_FILE": "", "AWS_SHARED_CREDENTIALS_FILE": "", "AWS_CA_BUNDLE": "",
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID": "AKIDSHAREDFILES0000", "AWS_SECRET_ACCESS_KEY": "shared-files-test-secret", "AWS_SESSION_TOKEN": "",
		"AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""} {
		t.Setenv(k, v)
	}
	return home
}

func fifo(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	return p
}

// Before the fix, config.LoadDefaultConfig opened each of these with
// os.Open, blocking on the FIFO for good (it takes no context), and read
// /dev/zero until memory ran out. Each refusal names the setting.
// Not parallel: the default configuration reads the process environment.
func TestSharedFilesRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		set        func(t *testing.T, home, path string)
	}{
		{"AWS_CONFIG_FILE", "AWS_CONFIG_FILE", func(t *testing.T, _, p string) { t.Setenv("AWS_CONFIG_FILE", p) }},
		{"AWS_SHARED_CREDENTIALS_FILE", "AWS_SHARED_CREDENTIALS_FILE", func(t *testing.T, _, p string) { t.Setenv("AWS_SHARED_CREDENTIALS_FILE", p) }},
		{"~/.aws/config", "the default shared config file", func(t *testing.T, home, p string) { link(t, p, filepath.Join(home, ".aws", "config")) }},
		{"~/.aws/credentials", "the default shared credentials file", func(t *testing.T, home, p string) { link(t, p, filepath.Join(home, ".aws", "credentials")) }},
		{"AWS_CA_BUNDLE", "AWS_CA_BUNDLE", func(t *testing.T, _, p string) { t.Setenv("AWS_CA_BUNDLE", p) }},
		{"ca_bundle in the profile", "ca_bundle of profile default", func(t *testing.T, home, p string) {
			cfg := filepath.Join(home, "config")
			require.NoError(t, os.WriteFile(cfg, []byte("[default]\nca_bundle = "+p+"\n"), 0o600))
			t.Setenv("AWS_CONFIG_FILE", cfg)
		}},
	} {
		for _, special := range []string{"FIFO", "/dev/zero"} {
			t.Run(tc.name+" "+special, func(t *testing.T) {
				home := isolate(t)
				p := "/dev/zero"
				if special == "FIFO" {
					p = fifo(t)
				}
				tc.set(t, home, p)
				_, err := loadConfig(t.Context(), nil, "", "WebIdentityOptions.Region")
				require.Error(t, err)
				assert.ErrorContains(t, err, "cannot use "+tc.want+" ")
				assert.ErrorContains(t, err, "not a regular file")
			})
		}
	}
}

func TestSharedFilesRefusesHugeFile(t *testing.T) {
	home := isolate(t)
	p := filepath.Join(home, "huge")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(sharedFileLimit+1))
	require.NoError(t, f.Close())
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", p)
	_, err = loadConfig(t.Context(), nil, "", "MSKOptions.Region")
	require.Error(t, err)
	assert.ErrorContains(t, err, `cannot use AWS_SHARED_CREDENTIALS_FILE "`+p+`": file too large`)
}

func TestSharedFilesAreRead(t *testing.T) {
	home := isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_REGION", "")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[profile p1]\nregion = eu-west-3\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[p1]\naws_access_key_id = AKIDFROMFILE0000000\naws_secret_access_key = from-file\n"), 0o600))
	t.Setenv("AWS_PROFILE", "p1")
	c, err := loadConfig(t.Context(), nil, "", "MSKOptions.Region")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-3", c.Region)
	creds, err := c.Credentials.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "AKIDFROMFILE0000000", creds.AccessKeyID)
}

// AWS_CA_BUNDLE and a profile's ca_bundle, read through the bounded
// reader, still make the default configuration's client trust the CA.
func TestSharedFilesCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	get := func(t *testing.T) error {
		c, err := loadConfig(t.Context(), nil, "", "WebIdentityOptions.Region")
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := c.HTTPClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	t.Run("none", func(t *testing.T) {
		isolate(t)
		assert.ErrorContains(t, get(t), "certificate", "the test server's certificate is trusted without a bundle: the cases below prove nothing")
	})
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	t.Run("AWS_CA_BUNDLE", func(t *testing.T) {
		isolate(t)
		t.Setenv("AWS_CA_BUNDLE", bundle)
		assert.NoError(t, get(t))
	})
	t.Run("ca_bundle", func(t *testing.T) {
		home := isolate(t)
		cfg := filepath.Join(home, "config")
		require.NoError(t, os.WriteFile(cfg, []byte("[default]\nca_bundle = "+bundle+"\n"), 0o600))
		t.Setenv("AWS_CONFIG_FILE", cfg)
		assert.NoError(t, get(t))
	})
}

func link(t *testing.T, to, at string) {
	require.NoError(t, os.MkdirAll(filepath.Dir(at), 0o700))
	require.NoError(t, os.Symlink(to, at))
}
