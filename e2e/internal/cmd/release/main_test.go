package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

// repo writes a go.work, a RELEASING.md with table and one go.mod per
// module (module path example.com/r + folder, requiring reqs).
func repo(t *testing.T, table string, mods map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	work := "go 1.26.0\n\nuse (\n"
	for dir, reqs := range mods {
		work += "\t./" + dir + "\n"
		gomod := "module " + modPath(dir) + "\n\ngo 1.26.0\n"
		for _, r := range reqs {
			gomod += "require " + modPath(r) + " v0.0.0-00010101000000-000000000000\n"
			gomod += "replace " + modPath(r) + " => ./x\n"
		}
		require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, dir, "go.mod"), []byte(gomod), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.work"), []byte(work+")\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "RELEASING.md"), []byte(table), 0o644))
	return root
}

func modPath(dir string) string {
	if dir == "." {
		return "example.com/r"
	}
	return "example.com/r/" + dir
}

const table = "| module | tag prefix | requires |\n|---|---|---|\n| `.` (root) | `vX.Y.Z` | — |\n" +
	"| `b` | `b/vX.Y.Z` | root |\n| `a` | `a/vX.Y.Z` | root, b |\n| `e2e` | not tagged | everything |\n"

// The tag order puts the root first and each module after the modules of
// the set it requires; untagged modules are left out.
func TestModulesTagOrder(t *testing.T) {
	root := repo(t, table, map[string][]string{".": nil, "a": {".", "b"}, "b": {"."}, "e2e": {".", "a", "b"}})
	set, err := loadSet(root)
	require.NoError(t, err)
	var dirs []string
	for _, m := range set.ordered {
		dirs = append(dirs, m.dir)
	}
	assert.Equal(t, []string{".", "b", "a"}, dirs)
}

// A module go.work lists but RELEASING.md's table does not name fails, so
// a new module cannot be released (or left out) silently.
func TestModulesNotInTableFails(t *testing.T) {
	root := repo(t, table, map[string][]string{".": nil, "a": {".", "b"}, "b": {"."}, "e2e": {"."}, "otel": {"."}})
	_, err := loadSet(root)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RELEASING.md's module table does not name otel")
}

// pin requires every module of the set at the version and drops the
// replace directives naming them.
func TestPin(t *testing.T) {
	root := repo(t, table, map[string][]string{".": nil, "a": {".", "b"}, "b": {"."}, "e2e": {"."}})
	set, err := loadSet(root)
	require.NoError(t, err)
	require.NoError(t, set.pin(filepath.Join(root, "a"), "v1.2.3"))
	data, err := os.ReadFile(filepath.Join(root, "a", "go.mod"))
	require.NoError(t, err)
	f, err := modfile.Parse("go.mod", data, nil)
	require.NoError(t, err)
	assert.Empty(t, f.Replace)
	for _, r := range f.Require {
		assert.Equal(t, "v1.2.3", r.Mod.Version, r.Mod.Path)
	}
	assert.False(t, strings.Contains(string(data), "=>"))
}

// publish writes the proxy layout: .info, .mod, .zip and list.
func TestPublish(t *testing.T) {
	root := repo(t, table, map[string][]string{".": nil})
	require.NoError(t, os.WriteFile(filepath.Join(root, "r.go"), []byte("package r\n"), 0o644))
	proxy := t.TempDir()
	require.NoError(t, publish(root, "v0.1.0-rc.1", proxy))
	require.NoError(t, publish(root, "v0.1.0", proxy))
	for _, f := range []string{"v0.1.0.info", "v0.1.0.mod", "v0.1.0.zip", "v0.1.0-rc.1.zip"} {
		assert.FileExists(t, filepath.Join(proxy, "example.com/r/@v", f))
	}
	list, err := os.ReadFile(filepath.Join(proxy, "example.com/r/@v/list"))
	require.NoError(t, err)
	assert.Equal(t, "v0.1.0-rc.1\nv0.1.0\n", string(list))
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/r\nreplace example.com/x => ../x\n"), 0o644))
	assert.ErrorContains(t, publish(root, "v0.2.0", proxy), "replace directives")
}
