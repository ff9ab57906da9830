package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadListsExportedAPIOnly checks each line form, that unexported names,
// test files, internal/examples/e2e directories and main packages are left
// out, and that the output is sorted (so a dump diffs cleanly). Failed
// before apidump printed type parameters field by field: "type
// List[<go/printer: unsupported node type *ast.FieldList>] []T".
func TestLoadListsExportedAPIOnly(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	}
	write("a/a.go", `package a

import "time"

const (
	K Kind = iota
	L
	hidden
)

const Timeout = 30 * time.Second

type Kind int

type Opts struct {
	Name string
	Base
	secret string
}

type Base struct{}

type Src interface {
	Token() (string, error)
	seal()
}

type List[T any] []T

var ErrX = errors.New("x")

func New(o *Opts) (*Opts, error) { return o, nil }
func Map[T any](l List[T]) List[T] { return l }
func (o *Opts) Close() error { return nil }
func (h *hiddenT) Exported() {}
func unexported() {}
`)
	write("a/a_test.go", "package a\n\nfunc TestOnly() {}\n")
	write("a/internal/x/x.go", "package x\n\nfunc X() {}\n")
	write("examples/e/e.go", "package e\n\nfunc E() {}\n")
	write("cmd/tool/main.go", "package main\n\nfunc Exported() {}\n")

	pkgs, err := load(root)
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	assert.Equal(t, []string{
		"pkg a, const K Kind = iota",
		"pkg a, const L Kind = iota",
		"pkg a, const Timeout = 30 * time.Second",
		"pkg a, func Map[T any](l List[T]) List[T]",
		"pkg a, func New(o *Opts) (*Opts, error)",
		"pkg a, method (*Opts) Close() error",
		"pkg a, type Base struct",
		"pkg a, type Kind int",
		"pkg a, type List[T any] []T",
		"pkg a, type Opts struct",
		"pkg a, type Opts struct, Name string",
		"pkg a, type Opts struct, embedded Base",
		"pkg a, type Src interface",
		"pkg a, type Src interface, Token() (string, error)",
		"pkg a, type Src interface, unexported methods",
		`pkg a, var ErrX = errors.New("x")`,
	}, pkgs[0].lines)
	assert.Equal(t, 4, pkgs[0].count["const"]+pkgs[0].count["var"])
	assert.Equal(t, 1, pkgs[0].count["method"])
}
