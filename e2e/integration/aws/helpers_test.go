package aws_test

import (
	"context"
	"testing"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/streamidentity/kafka-workload-identity/internal/emu"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/stretchr/testify/require"
)

// Copied from the aws module's tests: the broker tests moved here so
// that the aws module's go.mod needs no Kafka client.

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRole   = "arn:aws:iam::111122223333:role/orders"
)

// newSTS starts an emulator that verifies signatures with testSecret.
func newSTS(t *testing.T, opts *emu.STSOptions) *emu.STS {
	var o emu.STSOptions
	if opts != nil {
		o = *opts
	}
	o.AccessKeyID, o.SecretAccessKey, o.RoleARN = testKey, testSecret, testRole
	return emu.NewSTS(t, &o)
}

// sdkConfig is what a caller passes to reach the emulator with static
// credentials.
func sdkConfig(e *emu.STS, region string, creds sdkaws.CredentialsProvider) *sdkaws.Config {
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider(testKey, testSecret, "")
	}
	return &sdkaws.Config{
		Region:       region,
		Credentials:  creds,
		BaseEndpoint: sdkaws.String(e.URL),
		HTTPClient:   e.Client(),
	}
}

func newWebIdentity(t *testing.T, e *emu.STS, mutate func(*awsid.WebIdentityOptions)) *oauthbearer.Cache {
	t.Helper()
	o := &awsid.WebIdentityOptions{
		Audience: []string{"kafka.example.com"},
		Config:   sdkConfig(e, "us-west-2", nil),
	}
	if mutate != nil {
		mutate(o)
	}
	src, err := awsid.NewWebIdentity(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}
