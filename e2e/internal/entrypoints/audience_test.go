package entrypoints

import (
	"context"
	"errors"
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
// the setting, as an *oauthbearer.OptionError. Before, gcp and spiffe
// refused padded values with their own wording, azure trimmed them and
// aws sent them to STS.
func TestEverySourceRefusesTheSameAudiences(t *testing.T) {
	t.Parallel()
	closeIf := func(c *oauthbearer.Cache, err error) error {
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	sources := []struct {
		options, field string
		build          func(aud string) error
	}{
		{"gcp.IDTokenOptions", "Audience", func(a string) error {
			return closeIf(gcp.NewIDToken(context.Background(), &gcp.IDTokenOptions{Audience: a, MetadataServer: true}))
		}},
		{"spiffe.Options", "Audience", func(a string) error {
			return closeIf(spiffe.New(&spiffe.Options{Audience: a, Address: "unix:///nonexistent/agent.sock"}))
		}},
		{"azure", "Audience", func(a string) error {
			return closeIf(azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: a}))
		}},
		{"aws.WebIdentityOptions", "Audience[0]", func(a string) error {
			return closeIf(awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{Audience: []string{a}, Region: "us-east-1"}))
		}},
	}
	for _, s := range sources {
		t.Run(s.options+"."+s.field, func(t *testing.T) {
			t.Parallel()
			for _, a := range []string{"", " api://kafka", "api://kafka\n", "api://kafka\t", "api://ka\r\nfka", "api://kafka\x00"} {
				rule := audience.Check(s.options, s.field, a, "")
				require.Error(t, rule)
				err := s.build(a)
				require.Error(t, err, "%q", a)
				assert.Contains(t, err.Error(), rule.Error(), "%q", a)
				oe, ok := errors.AsType[*oauthbearer.OptionError](err)
				if assert.True(t, ok, "%q: %T is not an *oauthbearer.OptionError", a, err) {
					assert.Equal(t, s.options, oe.Options)
					assert.Equal(t, []string{s.field}, oe.Fields)
				}
			}
		})
	}
}
