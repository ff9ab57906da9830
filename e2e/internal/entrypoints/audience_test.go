package entrypoints

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/internal/audience"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
)

// Every source's audience follows internal/audience's one rule: an empty
// value, or one with white space or a line break around or in it, is
// refused (not trimmed) before any request, with the same words naming
// the setting. Before, gcp and spiffe refused padded values with their
// own wording, azure trimmed them and aws sent them to STS.
func TestEverySourceRefusesTheSameAudiences(t *testing.T) {
	t.Parallel()
	closeIf := func(c *oauthbearer.Cache, err error) error {
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	sources := []struct {
		setting string
		build   func(aud string) error
	}{
		{"IDTokenOptions.Audience", func(a string) error {
			return closeIf(gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: a, MetadataServer: true}))
		}},
		{"Options.Audience", func(a string) error {
			return closeIf(spiffe.New(&spiffe.Options{Audience: a, Address: "unix:///nonexistent/agent.sock"}))
		}},
		{"Audience", func(a string) error {
			return closeIf(azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: a}))
		}},
		{"WebIdentityOptions.Audience[0]", func(a string) error {
			return closeIf(awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{a}, Region: "us-east-1"}))
		}},
	}
	for _, s := range sources {
		t.Run(s.setting, func(t *testing.T) {
			t.Parallel()
			for _, a := range []string{"", " api://kafka", "api://kafka\n", "api://kafka\t", "api://ka\r\nfka", "api://kafka\x00"} {
				rule := audience.Check(s.setting, a)
				require.Error(t, rule)
				err := s.build(a)
				require.Error(t, err, "%q", a)
				assert.Contains(t, err.Error(), rule.Error(), "%q", a)
				assert.False(t, strings.HasPrefix(err.Error(), s.setting), "the error starts with the source's package")
			}
		})
	}
}
