package azure_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
)

func TestNormalizeAudience(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want, err string }{
		"app ID":         {in: "0b1c2d3e-0000-4000-8000-00000000abcd", want: "0b1c2d3e-0000-4000-8000-00000000abcd/.default"},
		"api URI":        {in: "api://kafka-prod", want: "api://kafka-prod/.default"},
		"api URI slash":  {in: "api://kafka-prod/", want: "api://kafka-prod/.default"},
		"scope":          {in: "api://kafka-prod/.default", want: "api://kafka-prod/.default"},
		"https scope":    {in: "https://ns.servicebus.windows.net/.default", want: "https://ns.servicebus.windows.net/.default"},
		"spaces refused": {in: "  api://k  ", err: "spaces or line breaks around"},
		"trailing line":  {in: "api://k\n", err: `"api://k\n"`},
		"empty":          {in: "", err: "empty"},
		"bare api":       {in: "api://", err: `"api://"`},
		"only suffix":    {in: "/.default", err: `"/.default"`},
		"https resource": {in: "https://ns.servicebus.windows.net", err: "append /.default"},
		"URI with path":  {in: "api://tenant-id/kafka", want: "api://tenant-id/kafka/.default"},
		"two scopes":     {in: "api://a/.default api://b/.default", err: "more than one"},
		"not a GUID":     {in: "0b1c2d3e-0000", err: "application ID"},
		"other scheme":   {in: "spiffe://kafka", err: "spiffe://kafka"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := azure.NormalizeAudience(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), "azure: "))
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The user's value is quoted through srvtext.Quote: a URL's query (a
// signature pasted along) is dropped and a pasted blob is clipped. On
// main both were printed whole (%q).
func TestNormalizeAudienceQuotesSafely(t *testing.T) {
	t.Parallel()
	_, err := azure.NormalizeAudience("https://ns.servicebus.windows.net?sig=s3cr3t-signature")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Audience "https://ns.servicebus.windows.net" is not an application ID`)
	assert.NotContains(t, err.Error(), "s3cr3t")

	blob := strings.Repeat("x", 10000)
	_, err = azure.NormalizeAudience(blob + " y")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds more than one value")
	assert.NotContains(t, err.Error(), blob)
}

func TestEventHubsScope(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "https://prod-ns.servicebus.windows.net/.default", azure.EventHubsScope("prod-ns"))
	assert.Equal(t, "https://prod-ns.servicebus.windows.net/.default", azure.EventHubsScope("prod-ns.servicebus.windows.net"))
	got, err := azure.NormalizeAudience(azure.EventHubsScope("x"))
	require.NoError(t, err)
	assert.Equal(t, azure.EventHubsScope("x"), got)
}
