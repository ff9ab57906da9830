package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const guideURL = "https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md"

var (
	// see("anchor") and troubleshootingURL + "#anchor" in the packages,
	// and the full URL with an anchor anywhere (examples, tests).
	seeCall   = regexp.MustCompile(`\b(?:see|troubleshooting\.See)\("([^"]+)"\)`)
	urlConcat = regexp.MustCompile(`troubleshootingURL \+ "#([^"]+)"`)
	fullURL   = regexp.MustCompile(regexp.QuoteMeta(guideURL) + `#([A-Za-z0-9_-]+)`)
	urlConst  = regexp.MustCompile(`const troubleshootingURL = "([^"]+)"`)
	anchorDef = regexp.MustCompile(`<a id="([^"]+)"></a>`)
	innerLink = regexp.MustCompile(`\]\(#([^)]+)\)`)
)

// TestGuideAnchorsExist fails when code links to a section of
// troubleshooting.md that does not exist, or the guide links to itself
// wrongly.
func TestGuideAnchorsExist(t *testing.T) {
	t.Parallel()
	guide, err := os.ReadFile("troubleshooting.md")
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, m := range anchorDef.FindAllStringSubmatch(string(guide), -1) {
		require.False(t, anchors[m[1]], "anchor %q defined twice", m[1])
		anchors[m[1]] = true
	}
	require.NotEmpty(t, anchors)
	for _, m := range innerLink.FindAllStringSubmatch(string(guide), -1) {
		assert.True(t, anchors[m[1]], "the guide links to #%s, which it does not define", m[1])
	}

	linked := map[string][]string{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasPrefix(path, "../docs/") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := urlConst.FindSubmatch(src); m != nil {
			assert.Equal(t, guideURL, string(m[1]), "%s links to another guide URL", path)
		}
		for _, re := range []*regexp.Regexp{seeCall, urlConcat, fullURL} {
			for _, m := range re.FindAllSubmatch(src, -1) {
				linked[string(m[1])] = append(linked[string(m[1])], path)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, linked, "no code links to the guide")
	for a, files := range linked {
		assert.True(t, anchors[a], "%v link to #%s, which troubleshooting.md does not define", files, a)
	}
	for _, want := range []string{"invalid-token", "jwt-processing-failed", "jwt-header-kid-lookup-failed", "entra-v1-token",
		"aadsts700024", "aadsts700213", "aadsts70021", "imds-identity-not-found", "aws-outbound-federation-disabled",
		"aws-no-region", "sasl-extension-errors", "confluent-invalid-grant"} {
		assert.Contains(t, linked, want, "no error links to #%s", want)
	}
}
