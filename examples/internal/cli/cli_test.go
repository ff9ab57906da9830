package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStringDefaultsFromTheEnvironment: a flag's default is its
// environment variable when set, else the given default, and the usage
// names the variable.
func TestStringDefaultsFromTheEnvironment(t *testing.T) {
	t.Setenv("CLI_TEST_SET", "from-env")
	var set, unset string
	String(&set, "cli-test-set", "CLI_TEST_SET", "default", "a flag")
	String(&unset, "cli-test-unset", "CLI_TEST_NEVER_SET", "default", "a flag")
	assert.Equal(t, "from-env", set)
	assert.Equal(t, "default", unset)
	assert.Equal(t, "a flag (env CLI_TEST_SET)", flag.Lookup("cli-test-set").Usage)
}

// TestMainRunsWithTheParsedFlags: run sees the command line's values, not
// the defaults from before parsing. Failed before the change: cli.Main
// took the method value cfg.run, which copied cfg before Main parsed the
// flags, so `go run ./examples/aws-web-identity -offline` ignored -offline.
func TestMainRunsWithTheParsedFlags(t *testing.T) {
	type config struct{ value string }
	var cfg config
	flag.StringVar(&cfg.value, "cli-test-main", "default", "a flag")
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	os.Args = []string{"example", "-cli-test-main=parsed"}
	var got string
	Main("example", &cfg, func(c config, _ context.Context, _ io.Writer) error {
		got = c.value
		return nil
	})
	assert.Equal(t, "parsed", got)
}
