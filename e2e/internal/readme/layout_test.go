package readme

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layoutDirs returns the directories that README.md's Layout tree names,
// as paths from the repository root ("oauthbearer/franzsasl").
func layoutDirs(t *testing.T, readme string) []string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n## Layout\n")
	require.True(t, ok, "README.md has no Layout section")
	_, block, ok := strings.Cut(after, "```\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	entry := regexp.MustCompile(`^((?:│   |    )*)(?:├── |└── )([A-Za-z0-9._-]+)/`)
	var stack, dirs []string
	for line := range strings.SplitSeq(block, "\n") {
		m := entry.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		depth := len([]rune(m[1])) / 4
		stack = append(stack[:depth], m[2])
		dirs = append(dirs, strings.Join(stack, "/"))
	}
	return dirs
}

// TestREADMELayoutMatchesTree keeps README's Layout section and the farm of
// packages in agreement: every directory the tree names exists, and every
// public package (a directory with non-test Go files outside internal/,
// e2e/, examples/, testdata/ and .ci/) and every module is named, or lives
// under a named directory that the README describes as a whole.
func TestREADMELayoutMatchesTree(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	named := layoutDirs(t, string(readme))
	require.NotEmpty(t, named)
	for _, d := range named {
		st, err := os.Stat(filepath.Join(root, d))
		if assert.NoError(t, err, "README Layout names %s/, which does not exist", d) {
			assert.True(t, st.IsDir(), "%s is not a directory", d)
		}
	}
	// Directories described as a whole: what is below them needs no line.
	wholes := []string{"internal", "e2e", "examples", "api", "docs", ".ci", ".github"}
	var missing []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if rel != "." && (strings.HasPrefix(base, ".") && rel != ".ci" && rel != ".github" || base == "testdata" || base == "node_modules") {
				return filepath.SkipDir
			}
			for _, w := range wholes {
				if rel == w || strings.HasPrefix(rel, w+"/") {
					if rel != w {
						return filepath.SkipDir
					}
				}
			}
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		isPkg := strings.HasSuffix(d.Name(), ".go") && !strings.HasSuffix(d.Name(), "_test.go")
		if (isPkg || d.Name() == "go.mod") && dir != "." && !slices.Contains(named, dir) && !slices.Contains(missing, dir) {
			missing = append(missing, dir)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, missing, "packages or modules missing from README.md's Layout section")
}
