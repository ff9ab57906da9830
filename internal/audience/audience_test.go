package audience

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestCheckRefusesWhatNoBrokerMatches is the one rule every source's
// audience follows (gcp, spiffe, azure and aws call Check): refused, not
// trimmed, so the value requested is the value the broker must expect.
func TestCheckRefusesWhatNoBrokerMatches(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"plain":            {in: "kafka"},
		"URI":              {in: "api://kafka/.default"},
		"inner space":      {in: "a b"}, // a source with one-value rules (azure) refuses it itself
		"empty":            {in: "", want: "Options.Audience is empty; set it to the audience the Kafka cluster expects"},
		"trailing newline": {in: "kafka\n", want: `Options.Audience is "kafka\n", with spaces or line breaks around or in it`},
		"leading space":    {in: " kafka", want: `Options.Audience is " kafka"`},
		"tab":              {in: "kafka\t", want: `Options.Audience is "kafka\t"`},
		"inner CR":         {in: "ka\rfka", want: "line breaks"},
		"NUL":              {in: "ka\x00fka", want: "line breaks"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := Check("spiffe.Options", "Audience", tc.in, "see the guide")
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			oe, ok := errors.AsType[*oauthbearer.OptionError](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, "spiffe.Options", oe.Options)
			assert.Equal(t, []string{"Audience"}, oe.Fields)
			assert.True(t, strings.HasPrefix(err.Error(), "spiffe: "), err.Error())
			assert.True(t, strings.HasSuffix(err.Error(), "; see the guide"), err.Error())
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
