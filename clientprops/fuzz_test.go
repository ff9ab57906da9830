package clientprops

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// storeProperty writes key=value as java.util.Properties.store does, in
// ASCII with \uXXXX escapes.
func storeProperty(key, value string) string {
	esc := func(s string, isKey bool) string {
		var b strings.Builder
		for i, r := range s {
			switch {
			case r == ' ' && (isKey || i == 0):
				b.WriteString(`\ `)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\f':
				b.WriteString(`\f`)
			case strings.ContainsRune(`=:#!\`, r):
				b.WriteString(`\` + string(r))
			case r < 0x20 || r > 0x7e:
				for _, u := range utf16.Encode([]rune{r}) {
					fmt.Fprintf(&b, `\u%04X`, u)
				}
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return esc(key, true) + "=" + esc(value, false) + "\n"
}

// FuzzParseProperties checks the Java properties parser two ways: any
// property written as Java writes it reads back unchanged, even after
// arbitrary preceding data; and arbitrary data parses without panicking
// into properties whose line numbers are in order and within the file.
func FuzzParseProperties(f *testing.F) {
	f.Add([]byte("bootstrap.servers=pkc-1.westeurope.azure.confluent.cloud:9092\nsecurity.protocol=SASL_SSL\n"), "sasl.mechanism", "OAUTHBEARER")
	f.Add([]byte("# comment\n! other\nkey = value \\\n    continued\r\nx:y\rz\n"), "a key", " leading space")
	f.Add([]byte("k=\\u00e9\\uD83D\\uDE00\\\\\n"), "é😀", "tab\there\nnewline")
	f.Add([]byte("bad=\\u12\n"), "", "")
	f.Add([]byte("trailing\\"), "k=:#!", "\\")
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		props, err := parseProperties(data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "clientprops: "), "error %q lacks the package prefix", err)
		} else {
			lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
			prev := 1
			for _, p := range props {
				require.GreaterOrEqual(t, p.Line, prev, "lines out of order")
				require.LessOrEqual(t, p.Line, lines)
				prev = p.Line
			}
		}
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return
		}
		stored := storeProperty(key, value)
		got, err := parseProperties([]byte(stored))
		require.NoError(t, err, "parsing %q", stored)
		require.Len(t, got, 1, "parsing %q", stored)
		require.Equal(t, key, got[0].Key, "key of %q", stored)
		require.Equal(t, value, got[0].Value, "value of %q", stored)
	})
}

// quoteJAAS writes s as a double-quoted JAAS string.
func quoteJAAS(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

// valueTokens returns the quoted strings that stand in value position
// (right after '=') in s, and the text of every other token.
func valueTokens(s string) (values, others []string) {
	tz := &jaasTokenizer{s: []rune(s)}
	prevEq := false
	for {
		tok := tz.next()
		if tok.kind == jaasEOF {
			return values, others
		}
		if tok.kind == jaasQuoted && prevEq {
			values = append(values, tok.text)
		} else if tok.text != "" {
			others = append(others, tok.text)
		}
		prevEq = tok.kind == jaasChar && tok.char == '='
	}
}

// jaasErrQuoted finds the quoted parts of an error message.
var jaasErrQuoted = regexp.MustCompile(`'[^']*'|"[^"]*"`)

// FuzzParseJAAS checks the sasl.jaas.config parser: an entry it accepts
// survives being written back out (every name and value quoted) and read
// again; and a rejected value never has a quoted option value, which may
// be a secret, in its error.
func FuzzParseJAAS(f *testing.F) {
	f.Add(`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='abc' clientSecret="s3cr3t-value" scope='api://x/.default' extension_logicalCluster='lkc-1';`)
	f.Add(`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required useWorkloadIdentity='true' scope="a/.default";`)
	f.Add(`M required a="x\ny\101\x" /* c */ b='q' // tail` + "\n;")
	f.Add(`M required clientSecret="unterminated` + "\n" + `;`)
	f.Add(`M required clientSecret="s3cr3t-value" 12;`)
	f.Add(`M optional k=v; N required;`)
	f.Add(`M bogus;`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseJAAS(s)
		if err != nil {
			values, others := valueTokens(s)
			// Errors quote what they complain about; an option value must
			// never be among the quoted parts. The rest of the message is
			// the package's own wording, which a short value can match by
			// chance ("equire" in "use required"), so only long values
			// are looked for there.
			quoted := strings.Join(jaasErrQuoted.FindAllString(err.Error(), -1), "\x00")
			for _, v := range values {
				if len(v) < 6 || strings.Contains(strings.Join(others, "\x00"), v) {
					continue
				}
				require.NotContains(t, quoted, v, "the error quotes an option value")
				if len(v) >= 32 {
					require.NotContains(t, err.Error(), v, "the error contains an option value")
				}
			}
			return
		}
		for i := range e.Options {
			e.Options[i].glued = false // written back with spaces below
		}
		var b strings.Builder
		b.WriteString(quoteJAAS(e.LoginModule) + " " + e.ControlFlag)
		for _, o := range e.Options {
			b.WriteString(" " + quoteJAAS(o.Key) + "=" + quoteJAAS(o.Value))
		}
		b.WriteString(";")
		again, err := parseJAAS(b.String())
		require.NoError(t, err, "re-reading %q", b.String())
		require.Equal(t, e, again, "re-reading %q", b.String())
	})
}

// FuzzClientProperties runs whole client.properties files through
// ParseClientProperties. Invariant: a secret (the value of a secret
// property such as ...client.secret, or a secret option of
// sasl.jaas.config such as clientSecret) appears neither in the error nor
// in the printed configuration; and whatever parses has CacheOptions the
// cache accepts (the parser's numeric ranges are the cache's own).
func FuzzClientProperties(f *testing.F) {
	const imds = `security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?resource=api://kafka
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`
	f.Add([]byte(imds + `sasl.login.refresh.window.factor=0.9
sasl.login.refresh.window.jitter=0.1
sasl.login.retry.backoff.ms=100
sasl.login.retry.backoff.max.ms=10000
sasl.login.connect.timeout.ms=9223372036854
`))
	// Kafka's range, not the cache's: a parse error, never a config that
	// fails in Build.
	f.Add([]byte(imds + "sasl.login.refresh.window.jitter=0.15\n"))
	f.Add([]byte(`bootstrap.servers=pkc-1.westeurope.azure.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://idp.example/oauth2/token
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='abc' clientSecret='s3cr3t-value-1' scope='kafka' extension_logicalCluster='lkc-1' extension_identityPoolId='pool-1';
`))
	f.Add([]byte(`sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://kafka
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientSecret='abc${def}ghi';
`))
	f.Add([]byte(`sasl.oauthbearer.client.credentials.client.secret=s3cr3t-value-2
basic.auth.user.info=user:pa55word-value
sasl.mechanism=PLAIN
`))
	f.Add([]byte("sasl.jaas.config=x required clientSecret='${SECRET_FROM_ENV}';\n"))
	wording := packageWording(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		props, perr := parseProperties(data)
		if perr != nil {
			return
		}
		var secrets, public []string
		for _, p := range props {
			public = append(public, p.Key)
			switch {
			case p.Key == "sasl.jaas.config":
				e, err := parseJAAS(p.Value)
				if err != nil {
					continue
				}
				public = append(public, e.LoginModule, e.ControlFlag)
				for _, o := range e.Options {
					public = append(public, o.Key)
					if k := strings.ToLower(o.Key); strings.Contains(k, "secret") || strings.Contains(k, "password") {
						secrets = append(secrets, o.Value)
					} else {
						public = append(public, o.Value)
					}
				}
			case secretKey(p.Key):
				secrets = append(secrets, p.Value)
			default:
				public = append(public, p.Value)
			}
		}
		cfg, err := parse(data)
		out := ""
		if err != nil {
			out = err.Error()
			// Every quoted piece went through srvtext.Quote or is a key
			// shown as written only when printable: one line, no escapes.
			require.False(t, strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }), "control character in %q", out)
			require.Less(t, len(out), 4096, "an error of %d bytes", len(out))
		} else {
			out = fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)
			require.True(t, cfg.Cache == nil || cfg.Cache.Validate() == nil, "the parser accepted CacheOptions the cache refuses")
		}
		pub := strings.Join(public, "\x00")
		for _, s := range secrets {
			// A secret that is a piece of the package's own wording
			// ("Module required;" of "add sasl.jaas.config=...") is
			// not a leak when the message says it.
			if len(s) < 8 || strings.Contains(pub, s) || strings.Contains(wording, s) {
				continue
			}
			require.NotContains(t, out, s, "a secret leaked")
		}
	})
}

// packageWording returns the text of the package's own source files,
// which holds every message it writes.
func packageWording(f *testing.F) string {
	files, err := filepath.Glob("*.go")
	require.NoError(f, err)
	var b strings.Builder
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(f, err)
		b.Write(src)
	}
	// Messages built from constants.
	b.WriteString(oauthLoginModule + " required;\x00" + azureHandlerClass + " or " + kafkaHandlerClass)
	return b.String()
}
