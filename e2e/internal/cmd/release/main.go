// Command release performs the mechanical steps of RELEASING.md, so that
// the document, the release and the rehearsal in CI (.ci/release-rehearsal.sh)
// follow one procedure:
//
//	release modules                 the library modules in tag order (one folder a line)
//	release pin -version V DIR      rewrite DIR/go.mod for release V: every requirement
//	                                on a module of this repository at V, and no replace
//	                                directive naming one
//	release publish -version V -proxy P DIR
//	                                write what a module proxy serves for DIR at V
//	                                (P/<module>/@v/V.{info,mod,zip} and list), the zip
//	                                made by golang.org/x/mod/zip as the go command
//	                                and the public proxies make it
//
// The module set is go.work's (.ci/crosslink.sh generates it from the
// go.mod files git tracks), minus the modules RELEASING.md's table marks
// "not tagged"; every other module must be named in that table, so a new
// module cannot be released, or left out, without the document saying so.
// Tag order: the root first, then each module after every module of this
// repository it requires.
//
// Flags common to every subcommand: -root (the repository, default ".").
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: release modules|pin|publish [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	root := fs.String("root", ".", "repository root (holds go.work and RELEASING.md)")
	version := fs.String("version", "", "release version (vX.Y.Z, or a pre-release)")
	proxy := fs.String("proxy", "", "publish: the file-based module proxy directory")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	set, err := loadSet(*root)
	if err != nil {
		return err
	}
	switch args[0] {
	case "modules":
		for _, m := range set.ordered {
			fmt.Println(m.dir)
		}
		return nil
	case "pin", "publish":
		if !semver.IsValid(*version) || semver.Build(*version) != "" {
			return fmt.Errorf("-version %q is not a semantic version such as v1.2.3 or v1.2.3-rc.1", *version)
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%s takes one module folder, got %d", args[0], fs.NArg())
		}
		dir := fs.Arg(0)
		if args[0] == "pin" {
			return set.pin(dir, *version)
		}
		if *proxy == "" {
			return errors.New("publish needs -proxy")
		}
		return publish(dir, *version, *proxy)
	}
	return fmt.Errorf("unknown subcommand %q (want modules, pin or publish)", args[0])
}

type mod struct {
	dir  string // relative to the root, "." for the root
	path string // module path
	reqs []string
}

type releaseSet struct {
	all     map[string]bool // module path of every module in go.work, released or not
	ordered []mod           // released modules, tag order
}

// notTaggedRow matches a RELEASING.md table row saying its modules are not tagged.
var (
	tableRow   = regexp.MustCompile(`^\|(.*?)\|(.*?)\|`)
	backticked = regexp.MustCompile("`([^`]+)`")
)

func loadSet(root string) (*releaseSet, error) {
	workData, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, fmt.Errorf("reading go.work (bash .ci/crosslink.sh writes it): %w", err)
	}
	work, err := modfile.ParseWork("go.work", workData, nil)
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(filepath.Join(root, "RELEASING.md"))
	if err != nil {
		return nil, err
	}
	named, untagged := map[string]bool{}, map[string]bool{}
	for line := range strings.Lines(string(doc)) {
		m := tableRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, f := range backticked.FindAllStringSubmatch(m[1], -1) {
			d := path.Clean(f[1])
			named[d] = true
			if strings.Contains(m[2], "not tagged") {
				untagged[d] = true
			}
		}
	}
	set := &releaseSet{all: map[string]bool{}}
	var released []mod
	var missing []string
	for _, u := range work.Use {
		dir := path.Clean(filepath.ToSlash(u.Path))
		data, err := os.ReadFile(filepath.Join(root, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		f, err := modfile.ParseLax(dir+"/go.mod", data, nil)
		if err != nil {
			return nil, err
		}
		m := mod{dir: dir, path: f.Module.Mod.Path}
		for _, r := range f.Require {
			m.reqs = append(m.reqs, r.Mod.Path)
		}
		set.all[m.path] = true
		switch {
		case untagged[dir]:
		case !named[dir]:
			missing = append(missing, dir)
		default:
			released = append(released, m)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("RELEASING.md's module table does not name %s (go.work lists it): add a row with its tag prefix, or mark it \"not tagged\"", strings.Join(missing, ", "))
	}
	// Tag order: a module after every released module it requires; ties by folder, the root first.
	slices.SortFunc(released, func(a, b mod) int {
		if a.dir == "." {
			return -1
		}
		if b.dir == "." {
			return 1
		}
		return strings.Compare(a.dir, b.dir)
	})
	done := map[string]bool{}
	for len(set.ordered) < len(released) {
		progress := false
		for _, m := range released {
			if done[m.path] {
				continue
			}
			ready := true
			for _, r := range m.reqs {
				if r != m.path && set.all[r] && !done[r] {
					ready = false
				}
			}
			if ready {
				set.ordered = append(set.ordered, m)
				done[m.path] = true
				progress = true
			}
		}
		if !progress {
			return nil, errors.New("the released modules require each other in a cycle, or require a module that is not released")
		}
	}
	return set, nil
}

// pin rewrites dir/go.mod as step 3 of RELEASING.md says.
func (s *releaseSet) pin(dir, version string) error {
	file := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	f, err := modfile.Parse(file, data, nil)
	if err != nil {
		return err
	}
	for _, r := range f.Require {
		if s.all[r.Mod.Path] {
			if err := f.AddRequire(r.Mod.Path, version); err != nil {
				return err
			}
		}
	}
	for _, r := range f.Replace {
		if s.all[r.Old.Path] {
			if err := f.DropReplace(r.Old.Path, r.Old.Version); err != nil {
				return err
			}
		}
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o644)
}

// publish writes dir's module at version into the file-based proxy: what
// GOPROXY=file://proxy serves, byte for byte the layout of the module
// proxy protocol (go help goproxy).
func publish(dir, version, proxy string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	f, err := modfile.Parse(filepath.Join(dir, "go.mod"), data, nil)
	if err != nil {
		return err
	}
	if len(f.Replace) > 0 {
		return fmt.Errorf("%s/go.mod still has replace directives; run release pin first", dir)
	}
	mv := module.Version{Path: f.Module.Mod.Path, Version: version}
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	z, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(z, mv, dir); err != nil {
		z.Close()
		return fmt.Errorf("zipping %s: %w", dir, err)
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), data, 0o644); err != nil {
		return err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), info, 0o644); err != nil {
		return err
	}
	listFile := filepath.Join(vdir, "list")
	list, err := os.ReadFile(listFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(list))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	return os.WriteFile(listFile, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
