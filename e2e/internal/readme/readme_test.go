// Package readme compiles every Go block of the repository's README.md,
// so that what a user copies compiles as written.
package readme

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// imports maps a package name a README block uses to its import path.
// "kafka" is confluent-kafka-go in a block that builds a ConfigMap, else
// segmentio/kafka-go.
var imports = map[string]string{
	"azure":          "github.com/streamidentity/kafka-workload-identity/azure",
	"awsid":          "github.com/streamidentity/kafka-workload-identity/aws",
	"gcp":            "github.com/streamidentity/kafka-workload-identity/gcp",
	"confluent":      "github.com/streamidentity/kafka-workload-identity/confluent",
	"clientprops":    "github.com/streamidentity/kafka-workload-identity/clientprops",
	"oauthbearer":    "github.com/streamidentity/kafka-workload-identity/oauthbearer",
	"oauthclient":    "github.com/streamidentity/kafka-workload-identity/oauthclient",
	"tokenfile":      "github.com/streamidentity/kafka-workload-identity/tokenfile",
	"spiffe":         "github.com/streamidentity/kafka-workload-identity/spiffe",
	"kwiprom":        "github.com/streamidentity/kafka-workload-identity/plugin/kwiprom",
	"kwiotel":        "github.com/streamidentity/kafka-workload-identity/plugin/kwiotel",
	"schemaregistry": "github.com/streamidentity/kafka-workload-identity/schemaregistry",
	"franzsasl":      "github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl",
	"saramasasl":     "github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl",
	"kafkagosasl":    "github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl",
	"confluentkafka": "github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka",
	"kgo":            "github.com/twmb/franz-go/pkg/kgo",
	"sr":             "github.com/twmb/franz-go/pkg/sr",
	"sarama":         "github.com/IBM/sarama",
	"ckgsr":          "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry",
	"azidentity":     "github.com/Azure/azure-sdk-for-go/sdk/azidentity",
	"tls":            "crypto/tls",
	"http":           "net/http",
	"time":           "time",
	"context":        "context",
}

// prelude declares, once for every block, what the README's sections take
// from the sections above them.
const prelude = `package snippets

import (
	"crypto/tls"

	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

var (
	mi      oauthbearer.TokenSource        // a source, as built in "franz-go"
	withExt *oauthbearer.ExtensionSource   // the source with Confluent's extensions
	mech    sasl.Mechanism                 // franzsasl.Mechanism(src, nil)
	cc      *clientprops.Config            // clientprops.ParseFile("client.properties")

	tlsWithAivenCA *tls.Config             // trusts the cluster's CA
	carSchema      string                  // an Avro schema
)

type Car struct{ Make string }

func encode(any) ([]byte, error) { return nil, nil }
func decode([]byte, any) error   { return nil }
`

var (
	goBlock  = regexp.MustCompile("(?ms)^```go\n(.*?)^```")
	elided   = regexp.MustCompile(`\{ \.\.\. \}`)
	usesConf = regexp.MustCompile(`kafka\.(ConfigMap|NewProducer|NewConsumer|NewAdminClient)`)
)

// wrap turns block n into a function: the block is its body (with
// `{ ... }` read as `{ return err }`), `_ = &v` follows for each variable
// the block declares, and the file imports the packages the block names.
func wrap(t *testing.T, n int, block string) string {
	body := elided.ReplaceAllString(block, "{ return err }")
	fn := fmt.Sprintf("func snippet%d(ctx context.Context) error {\n%s\n", n, body)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", "package p\n"+fn+"return nil\n}\n", parser.SkipObjectResolution)
	require.NoError(t, err, "README block %d is not Go statements", n)
	var declared []string
	seen := map[string]bool{}
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		var names []*ast.Ident
		switch s := st.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				for _, e := range s.Lhs {
					names = append(names, e.(*ast.Ident))
				}
			}
		case *ast.DeclStmt:
			for _, sp := range s.Decl.(*ast.GenDecl).Specs {
				if vs, ok := sp.(*ast.ValueSpec); ok {
					names = append(names, vs.Names...)
				}
			}
		}
		for _, id := range names {
			if id.Name != "_" && !seen[id.Name] {
				seen[id.Name] = true
				declared = append(declared, id.Name)
			}
		}
	}
	for _, v := range declared {
		fn += "_ = &" + v + "\n"
	}
	fn += "return nil\n}\n"

	paths := map[string]string{"context": "context"}
	code := stripComments(body)
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if se, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := se.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for name := range used {
		if name == "kafka" {
			if usesConf.MatchString(code) {
				paths["kafka"] = "github.com/confluentinc/confluent-kafka-go/v2/kafka"
			} else {
				paths["kafka"] = "github.com/segmentio/kafka-go"
			}
			continue
		}
		if p, ok := imports[name]; ok {
			paths[name] = p
		}
	}
	names := make([]string, 0, len(paths))
	for k := range paths {
		names = append(names, k)
	}
	sort.Strings(names)
	src := "package snippets\n\nimport (\n"
	for _, k := range names {
		src += fmt.Sprintf("\t%s %q\n", k, paths[k])
	}
	return src + ")\n\n" + fn
}

// stripComments drops // comments, so that code mentioned in a comment
// adds no import.
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// docs are the documents whose Go blocks must compile, relative to the
// repository root.
var docs = []string{"README.md", "docs/troubleshooting.md"}

// TestREADMEGoBlocksCompile extracts every ```go block of README.md (and
// of the troubleshooting guide), wraps it as README.md's "Snippets
// compile" note says, and vets (so compiles) the lot in a package of this
// module, which requires every module of the repository. Fails naming the
// document and line of a block that does not compile.
func TestREADMEGoBlocksCompile(t *testing.T) {
	dir, err := os.MkdirTemp(".", "snippets")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prelude.go"), []byte(prelude), 0o644))
	where := map[string]string{}
	n := 0
	for _, doc := range docs {
		text, err := os.ReadFile(filepath.Join("../../..", doc))
		require.NoError(t, err)
		blocks := goBlock.FindAllSubmatchIndex(text, -1)
		if doc == "README.md" {
			require.GreaterOrEqual(t, len(blocks), 10, "README.md has fewer Go blocks than expected; is the pattern right?")
		}
		for _, b := range blocks {
			n++
			file := fmt.Sprintf("block%02d.go", n)
			where[file] = fmt.Sprintf("%s block at line %d", doc, 1+strings.Count(string(text[:b[0]]), "\n"))
			src := wrap(t, n, string(text[b[2]:b[3]]))
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(src), 0o644))
		}
	}
	cmd := exec.Command("go", "vet", "./"+filepath.Base(dir))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1") // confluent-kafka-go's blocks need cgo
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		for file, w := range where {
			msg = strings.ReplaceAll(msg, file+":", fmt.Sprintf("%s (%s):", file, w))
		}
		t.Fatalf("Go blocks of the documentation do not compile:\n%s", msg)
	}
	t.Logf("%d Go blocks (%s) compile and vet clean", n, strings.Join(docs, ", "))
}
