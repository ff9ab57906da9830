package clientprops

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePropertiesJavaRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want []Property
	}{
		"equals":                {"a=b", []Property{{"a", "b", 1}}},
		"colon":                 {"a:b", []Property{{"a", "b", 1}}},
		"whitespace separator":  {"a   b", []Property{{"a", "b", 1}}},
		"space around equals":   {"  a  =  b  ", []Property{{"a", "b  ", 1}}},
		"space then colon":      {"a : b", []Property{{"a", "b", 1}}},
		"second separator kept": {"a==b", []Property{{"a", "=b", 1}}},
		"empty value":           {"a=", []Property{{"a", "", 1}}},
		"key only":              {"a", []Property{{"a", "", 1}}},
		"comments":              {"# c\n! c\n  # c\na=b", []Property{{"a", "b", 4}}},
		"escaped separator key": {`a\=b\ c=d`, []Property{{"a=b c", "d", 1}}},
		"escapes":               {`a=\t\n\r\f\x\\`, []Property{{"a", "\t\n\r\fx\\", 1}}},
		"unicode escape":        {`a=\u00e9\u0041`, []Property{{"a", "éA", 1}}},
		"surrogate pair":        {`a=\ud83d\ude00`, []Property{{"a", "😀", 1}}},
		"latin1 bytes":          {"a=\xe9", []Property{{"a", "é", 1}}},
		"continuation":          {"a=one \\\n    two \\\n\tthree", []Property{{"a", "one two three", 1}}},
		"continuation crlf":     {"a=x\\\r\n  y\r\nb=z", []Property{{"a", "xy", 1}, {"b", "z", 3}}},
		"continuation cr":       {"a=x\\\r  y\rb=z", []Property{{"a", "xy", 1}, {"b", "z", 3}}},
		"even backslashes":      {"a=x\\\\\nb=y", []Property{{"a", `x\`, 1}, {"b", "y", 2}}},
		"comment not continued": {"# c \\\na=b", []Property{{"a", "b", 2}}},
		"continued hash":        {"a=x\\\n  #y", []Property{{"a", "x#y", 1}}},
		"backslash at eof":      {"a=x\\", []Property{{"a", "x", 1}}},
		"duplicates in order":   {"a=1\na=2", []Property{{"a", "1", 1}, {"a", "2", 2}}},
		"blank lines counted":   {"\n\n  \na=b\n", []Property{{"a", "b", 4}}},
		"continuation to blank": {"a=x\\\n\nb=c", []Property{{"a", "x", 1}, {"b", "c", 3}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseProperties([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParsePropertiesMalformedUnicode(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`a=\u12`, `a=\uZZZZ`, "x=1\nb=\\u00"} {
		_, err := parseProperties([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), `\uxxxx`)
		assert.Contains(t, err.Error(), "line")
	}
}

func TestParseJAAS(t *testing.T) {
	t.Parallel()
	const mod = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	tests := map[string]struct {
		in   string
		want []jaasOption
	}{
		"no options":    {mod + " required;", nil},
		"single quotes": {mod + " required clientId='a' extension_logicalCluster='lkc-1';", []jaasOption{{Key: "clientId", Value: "a"}, {Key: "extension_logicalCluster", Value: "lkc-1"}}},
		"double quotes": {mod + ` required scope="api://x/.default";`, []jaasOption{{Key: "scope", Value: "api://x/.default"}}},
		"bare words":    {mod + " REQUIRED useWorkloadIdentity=true pool=pool-7yzk;", []jaasOption{{Key: "useWorkloadIdentity", Value: "true"}, {Key: "pool", Value: "pool-7yzk"}}},
		"escapes":       {mod + ` required a="x\"y\\z\n" b='it''s';`, []jaasOption{{Key: "a", Value: "x\"y\\z\n"}, {Key: "b", Value: "it"}, {Key: "s", Value: ""}}},
		"comments":      {mod + " /* c */ required // rest\n a='b';", []jaasOption{{Key: "a", Value: "b"}}},
		"spaces":        {"  " + mod + "   required   a = 'b'   ;  ", []jaasOption{{Key: "a", Value: "b"}}},
		"octal":         {mod + ` required a="\101\7";`, []jaasOption{{Key: "a", Value: "A\a"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if name == "escapes" {
				// 'it''s' is two quoted tokens in StreamTokenizer: 'it' then
				// 's' with no '=': Kafka rejects it.
				_, err := parseJAAS(tc.in)
				require.Error(t, err)
				return
			}
			e, err := parseJAAS(tc.in)
			require.NoError(t, err)
			assert.Equal(t, mod, e.LoginModule)
			assert.Equal(t, tc.want, e.Options)
		})
	}
}

func TestParseJAASErrors(t *testing.T) {
	t.Parallel()
	const mod = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	tests := map[string]struct{ in, want string }{
		"empty":        {"", "login module not specified"},
		"no flag":      {mod, "control flag not specified"},
		"bad flag":     {mod + " mandatory;", "invalid login module control flag"},
		"no semicolon": {mod + " required a='b'", "not terminated by a semicolon"},
		"no value":     {mod + " required scope=;", `value not specified for option "scope"`},
		"number":       {mod + " required a=123;", "option #1 (name withheld: it may be part of a secret) (Kafka does not accept a bare number: quote it)"},
		"two modules":  {mod + " required; " + mod + " required;", "exactly one"},
		"no equals":    {mod + " required clientSecret='x'topsecret';", "option #2 (name withheld"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseJAAS(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "topsecret")
		})
	}
}
