package aws_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
)

// setAWSEnv isolates the SDK's default configuration from the machine:
// no shared files, no IMDS, only the variables given.
func setAWSEnv(t *testing.T, env map[string]string) {
	empty := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_STS": "",
		"AWS_ACCESS_KEY_ID": testKey, "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": "",
		"AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// Not parallel: the default configuration reads the process environment.
func TestWebIdentityDefaultConfigFromEnvironment(t *testing.T) {
	e := newSTS(t, nil)
	setAWSEnv(t, map[string]string{"AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL_STS": e.URL})
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}})
	require.NoError(t, err)
	defer src.Close()
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, testRole, tok.Principal)
	assert.Equal(t, "us-west-2", e.Requests()[0].Region)
}

func TestDefaultConfigWithoutRegion(t *testing.T) {
	e := newSTS(t, nil)
	setAWSEnv(t, map[string]string{"AWS_ENDPOINT_URL_STS": e.URL})
	_, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws: no AWS region is set; set WebIdentityOptions.Region, or AWS_REGION")
	_, err = awsid.NewMSK(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws: no AWS region is set; set MSKOptions.Region, or AWS_REGION")
	assert.Empty(t, e.Requests())
}

func TestWebIdentityRefusesGlobalEndpointFromEnvironment(t *testing.T) {
	setAWSEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_STS": "https://sts.amazonaws.com"})
	_, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{"kafka"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"https://sts.amazonaws.com" is the global endpoint`)
	assert.Contains(t, err.Error(), "https://sts.us-east-1.amazonaws.com")
}
