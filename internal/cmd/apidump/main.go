// Command apidump writes the exported API of every public package of this
// repository as sorted text, one line per exported name, so that every API
// change shows up as a diff in review (.ci/api-check.sh compares the
// checked-in api/ files with a fresh dump).
//
// It parses source only (go/parser, go/ast): no build, no type checking, no
// dependencies, so it runs in well under a second and works on a tree whose
// modules are not downloaded. The price is that an untyped constant shows
// its expression rather than its type, which is what a reviewer wants to
// see anyway.
//
// Usage:
//
//	go run ./internal/cmd/apidump [-root dir] [-out api] [-count] [-internal]
//
// A public package is a directory with non-test Go files of a package other
// than main, with no path element named internal, testdata, examples, e2e,
// docs (a package for the documentation's tests) or vendor, and no element starting with "." or "_". Files are selected for
// linux/amd64 with cgo, the platform CI runs.
//
// Line forms (after "pkg <dir>, "):
//
//	const Name = expr | const Name Type = expr
//	var Name Type
//	func Name(params) results
//	type Name struct | interface | <underlying type>
//	type Name struct, Field Type | type Name struct, embedded Type
//	type Name interface, Method(params) results | type Name interface, embedded Type
//	method (Recv) Name(params) results
//
// With -count it prints, instead of writing files, a table of how many
// exported names each package has by kind.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

func main() {
	root := flag.String("root", ".", "repository root")
	out := flag.String("out", "api", "directory to write one <dir with / as .>.txt per package into (relative to -root unless absolute)")
	count := flag.Bool("count", false, "print a table of exported names per package and kind instead of writing files")
	internal := flag.Bool("internal", false, "dump the root module's internal packages that released nested modules import (default -out api/internal)")
	flag.Parse()

	loader := load
	if *internal {
		loader = loadInternal
		if *out == "api" {
			*out = "api/internal"
		}
	}
	pkgs, err := loader(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apidump:", err)
		os.Exit(1)
	}
	if *count {
		printCounts(os.Stdout, pkgs)
		return
	}
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(*root, dir)
	}
	if err := write(dir, pkgs); err != nil {
		fmt.Fprintln(os.Stderr, "apidump:", err)
		os.Exit(1)
	}
}

// pkgAPI is the exported API of one package directory.
type pkgAPI struct {
	dir   string // slash-separated, relative to the root
	lines []string
	count map[string]int // by kind: type, func, method, var, const, field, ifacemethod
}

// kinds in the order the count table prints them.
var kinds = []string{"type", "func", "var", "const", "method", "field", "ifacemethod"}

func skipDir(name string) bool {
	switch name {
	case "internal", "testdata", "examples", "e2e", "vendor", "docs":
		return true
	}
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func load(root string) ([]*pkgAPI, error) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", "amd64", true
	ctx.BuildTags = nil

	var pkgs []*pkgAPI
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		p, err := loadDir(&ctx, path, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if p != nil {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	return pkgs, err
}

func loadDir(ctx *build.Context, dir, rel string) (*pkgAPI, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := ctx.MatchFile(dir, name); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" || strings.HasSuffix(f.Name.Name, "_test") {
			return nil, nil
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil
	}
	p := &pkgAPI{dir: rel, count: map[string]int{}}
	d := &dumper{fset: fset, p: p}
	for _, f := range files {
		for _, decl := range f.Decls {
			d.decl(decl)
		}
	}
	sort.Strings(p.lines)
	return p, nil
}

type dumper struct {
	fset *token.FileSet
	p    *pkgAPI
}

func (d *dumper) emit(kind, line string) {
	d.p.count[kind]++
	d.p.lines = append(d.p.lines, "pkg "+d.p.dir+", "+line)
}

// src prints a node on one line, comments dropped.
func (d *dumper) src(n ast.Node) string {
	var buf bytes.Buffer
	cfg := printer.Config{Mode: printer.RawFormat}
	if err := cfg.Fprint(&buf, d.fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(buf.String()), " ")
}

func (d *dumper) decl(decl ast.Decl) {
	switch decl := decl.(type) {
	case *ast.FuncDecl:
		d.funcDecl(decl)
	case *ast.GenDecl:
		// Within a const group an omitted type and value repeat the
		// previous spec's (iota).
		var lastType, lastValue ast.Expr
		for _, spec := range decl.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				d.typeSpec(s)
			case *ast.ValueSpec:
				typ, values := s.Type, s.Values
				if decl.Tok == token.CONST {
					if typ == nil && values == nil {
						typ, values = lastType, nil
						if lastValue != nil {
							values = []ast.Expr{lastValue}
						}
					} else {
						lastType, lastValue = typ, nil
						if len(values) > 0 {
							lastValue = values[len(values)-1]
						}
					}
				}
				for i, name := range s.Names {
					if !name.IsExported() {
						continue
					}
					kind := strings.ToLower(decl.Tok.String())
					line := kind + " " + name.Name
					if typ != nil {
						line += " " + d.src(typ)
					}
					if kind == "const" && i < len(values) {
						line += " = " + d.src(values[i])
					}
					if kind == "var" && typ == nil && i < len(values) {
						// No type without type checking: show the value's
						// expression so the line still says what it is.
						line += " = " + d.src(values[i])
					}
					d.emit(kind, line)
				}
			}
		}
	}
}

func (d *dumper) funcDecl(f *ast.FuncDecl) {
	if !f.Name.IsExported() {
		return
	}
	sig := strings.TrimPrefix(d.src(f.Type), "func")
	if f.Recv == nil {
		// type parameters print as part of the FuncType: "[T any](...)"
		d.emit("func", "func "+f.Name.Name+sig)
		return
	}
	recv := f.Recv.List[0].Type
	if !exportedBase(recv) {
		return
	}
	d.emit("method", "method ("+d.src(recv)+") "+f.Name.Name+sig)
}

// exportedBase reports whether a receiver type's base name is exported:
// methods of unexported types are not API (unless promoted through an
// exported struct's embedded field, which this tool does not chase).
func exportedBase(e ast.Expr) bool {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.IsExported()
		default:
			return false
		}
	}
}

func (d *dumper) typeSpec(s *ast.TypeSpec) {
	if !s.Name.IsExported() {
		return
	}
	name := s.Name.Name
	if s.TypeParams != nil {
		// go/printer cannot print a bare FieldList: print "[T any, U comparable]" field by field
		var tps []string
		for _, f := range s.TypeParams.List {
			var names []string
			for _, n := range f.Names {
				names = append(names, n.Name)
			}
			tps = append(tps, strings.Join(names, ", ")+" "+d.src(f.Type))
		}
		name += "[" + strings.Join(tps, ", ") + "]"
	}
	assign := ""
	if s.Assign.IsValid() {
		assign = "= "
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		d.emit("type", "type "+name+" "+assign+"struct")
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 {
				if exportedBase(f.Type) || isQualified(f.Type) {
					d.emit("field", "type "+s.Name.Name+" struct, embedded "+d.src(f.Type))
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					d.emit("field", "type "+s.Name.Name+" struct, "+n.Name+" "+d.src(f.Type))
				}
			}
		}
	case *ast.InterfaceType:
		d.emit("type", "type "+name+" "+assign+"interface")
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				d.emit("ifacemethod", "type "+s.Name.Name+" interface, embedded "+d.src(m.Type))
				continue
			}
			for _, n := range m.Names {
				if !n.IsExported() {
					// an unexported method seals the interface: worth a line
					d.emit("ifacemethod", "type "+s.Name.Name+" interface, unexported methods")
					continue
				}
				ft, _ := m.Type.(*ast.FuncType)
				sig := ""
				if ft != nil {
					sig = strings.TrimPrefix(d.src(ft), "func")
				}
				d.emit("ifacemethod", "type "+s.Name.Name+" interface, "+n.Name+sig)
			}
		}
	default:
		d.emit("type", "type "+name+" "+assign+d.src(s.Type))
	}
}

func isQualified(e ast.Expr) bool {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.IsExported()
}

func fileName(dir string) string {
	return strings.ReplaceAll(dir, "/", ".") + ".txt"
}

func write(out string, pkgs []*pkgAPI) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Remove stale dumps so a deleted or moved package disappears too.
	old, err := filepath.Glob(filepath.Join(out, "*.txt"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	for _, p := range pkgs {
		var buf bytes.Buffer
		for _, l := range p.lines {
			buf.WriteString(l)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(out, fileName(p.dir)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func printCounts(w *os.File, pkgs []*pkgAPI) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\ttypes\tfuncs\tvars\tconsts\tidents\tmethods\tfields\tiface methods\t")
	total := map[string]int{}
	for _, p := range pkgs {
		fmt.Fprintf(tw, "%s\t", p.dir)
		for _, k := range kinds[:4] {
			fmt.Fprintf(tw, "%d\t", p.count[k])
			total[k] += p.count[k]
		}
		fmt.Fprintf(tw, "%d\t", p.count["type"]+p.count["func"]+p.count["var"]+p.count["const"])
		for _, k := range kinds[4:] {
			fmt.Fprintf(tw, "%d\t", p.count[k])
			total[k] += p.count[k]
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "total\t")
	for _, k := range kinds[:4] {
		fmt.Fprintf(tw, "%d\t", total[k])
	}
	fmt.Fprintf(tw, "%d\t", total["type"]+total["func"]+total["var"]+total["const"])
	for _, k := range kinds[4:] {
		fmt.Fprintf(tw, "%d\t", total[k])
	}
	fmt.Fprintln(tw)
	tw.Flush()
}
