package battery

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/streamidentity/kafka-workload-identity"

// TestTableCoversAPI parses every public package of every module in the
// repository and fails for each exported function or method that returns
// a token source and is not in the table, and for each table entry that
// names no such constructor. A token source is oauthbearer.TokenSource or
// any type with a method Token(context.Context) (oauthbearer.Token, error).
func TestTableCoversAPI(t *testing.T) {
	found := exportedSourceConstructors(t, filepath.Join("..", "..", ".."))
	require.NotEmpty(t, found)
	var names []string
	for _, en := range table {
		names = append(names, en.name)
	}
	for _, f := range found {
		if !slices.Contains(names, f) {
			t.Errorf("%s returns a token source and is not in the battery's table (table_test.go): add it, with the settings that name endpoints and files", f)
		}
	}
	for _, n := range names {
		if !slices.Contains(found, n) {
			t.Errorf("the table lists %s, which is not an exported constructor of a token source", n)
		}
	}
	t.Logf("%d exported token-source constructors found", len(found))
}

// TestEveryFamilyRunsOrSaysWhy: an entry runs each family of cases or
// says why it does not apply; it cannot do neither, nor both.
func TestEveryFamilyRunsOrSaysWhy(t *testing.T) {
	for _, en := range table {
		has := map[string]bool{
			famNet:       en.net != nil,
			famClose:     en.net != nil || en.blocked != nil,
			famEndpoints: len(en.endpoints) > 0,
			famFiles:     len(en.files) > 0,
		}
		for fam, runs := range has {
			why := en.none[fam]
			switch {
			case runs && why != "":
				t.Errorf("%s runs %q and also says it does not apply (%s)", en.name, fam, why)
			case !runs && why == "":
				t.Errorf("%s neither runs %q nor says why it does not apply", en.name, fam)
			}
		}
		if en.value != nil {
			assert.Empty(t, en.net, "%s: value is for sources without I/O", en.name)
		}
	}
}

// exportedSourceConstructors returns, sorted, the exported functions and
// methods of the public packages under root that return a token source,
// named "pkg.Func" or "pkg.(*T).Method" with pkg the package's directory.
func exportedSourceConstructors(t *testing.T, root string) []string {
	type pkgFiles struct {
		dir   string
		files []*ast.File
	}
	fset := token.NewFileSet()
	pkgs := map[string]*pkgFiles{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "internal" ||
				base == "vendor" || base == "cmd" || rel == "e2e" || rel == "examples") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		if pkgs[dir] == nil {
			pkgs[dir] = &pkgFiles{dir: dir}
		}
		pkgs[dir].files = append(pkgs[dir].files, f)
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, pkgs, "oauthbearer", "the walk did not reach the root module's packages")

	// Types with a Token(ctx) (Token, error) method, by "dir.Name"; the
	// interface oauthbearer.TokenSource is one.
	sources := map[string]bool{"oauthbearer.TokenSource": true}
	for dir, pk := range pkgs {
		for _, f := range pk.files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if ok && fd.Recv != nil && fd.Name.Name == "Token" && isTokenMethod(fd.Type, f, dir) {
					sources[dir+"."+recvName(fd.Recv.List[0].Type)] = true
				}
			}
		}
	}
	var out []string
	for dir, pk := range pkgs {
		for _, f := range pk.files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() || fd.Type.Results == nil {
					continue
				}
				name := dir + "." + fd.Name.Name
				if fd.Recv != nil {
					rn := recvName(fd.Recv.List[0].Type)
					if !ast.IsExported(rn) {
						continue
					}
					if _, ptr := fd.Recv.List[0].Type.(*ast.StarExpr); ptr {
						name = dir + ".(*" + rn + ")." + fd.Name.Name
					} else {
						name = dir + "." + rn + "." + fd.Name.Name
					}
				}
				for _, r := range fd.Type.Results.List {
					if sources[typeName(r.Type, f, dir)] {
						out = append(out, name)
						break
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// isTokenMethod reports whether ft is func(context.Context) (Token, error)
// with Token oauthbearer's.
func isTokenMethod(ft *ast.FuncType, f *ast.File, dir string) bool {
	if ft.Params == nil || len(ft.Params.List) != 1 || ft.Results == nil || len(ft.Results.List) != 2 {
		return false
	}
	return typeName(ft.Params.List[0].Type, f, dir) == "context.Context" && typeName(ft.Results.List[0].Type, f, dir) == "oauthbearer.Token"
}

// typeName is a type expression's "dir.Name" (pointers dropped), dir the
// package's directory in the repository (or its import path outside it).
func typeName(e ast.Expr, f *ast.File, dir string) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return typeName(x.X, f, dir)
	case *ast.Ident:
		return dir + "." + x.Name
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		if !ok {
			return ""
		}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			local := path[strings.LastIndex(path, "/")+1:]
			if im.Name != nil {
				local = im.Name.Name
			}
			if local == id.Name {
				return strings.TrimPrefix(strings.TrimPrefix(path, modulePath), "/") + "." + x.Sel.Name
			}
		}
	}
	return ""
}

func recvName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return recvName(x.X)
	case *ast.IndexExpr:
		return recvName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return ""
}
