// Package examples holds no code: its test checks what every example
// program links.
package examples

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesDoNotLinkTesting checks that no example binary links package
// testing (the offline mode uses the test bench, which must not import it)
// and none imports this repository's internal packages other than
// examples/internal/...: users copy these programs. `go list -deps`
// without -test lists the non-test dependencies only, what `go build` links.
// Fails before this change on the import rule (confluent-control-plane
// imported internal/jwtverify); the testing rule was verified to fail by
// adding `_ "testing"` to quickstart (the examples stopped linking testing
// when the bench dropped its testing import).
func TestExamplesDoNotLinkTesting(t *testing.T) {
	const module = "github.com/streamidentity/kafka-workload-identity"
	// go test caches a result by the files the test opens, not those
	// the go command it runs reads: open every source file so that an
	// edited example reruns the check.
	require.NoError(t, filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".go") {
			_, err = os.ReadFile(path)
		}
		return err
	}))
	pkgs := goList(t, "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "./...")
	require.NotEmpty(t, pkgs, "no example program found")
	for _, p := range pkgs {
		for _, dep := range goList(t, "-deps", p) {
			assert.NotEqual(t, "testing", dep, "%s links package testing", p)
		}
		for _, imp := range goList(t, "-f", "{{join .Imports \" \"}}", p) {
			if strings.HasPrefix(imp, module+"/") && strings.Contains(imp, "/internal/") {
				assert.True(t, strings.HasPrefix(imp, module+"/examples/internal/"), "%s imports %s: examples may use only examples/internal/...", p, imp)
			}
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	require.NoError(t, err)
	return strings.Fields(string(out))
}
