package kafkatest

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validOptions() Options {
	return Options{JWKSURL: "http://127.0.0.1:1/.well-known/jwks.json", Issuer: "http://127.0.0.1:1", Audience: "kafka"}
}

// parseProperties reads the subset of java.util.Properties syntax that
// serverProperties writes, undoing escapeProperty.
func parseProperties(t *testing.T, s string) map[string]string {
	t.Helper()
	unescape := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] != '\\' || i+1 == len(s) {
				b.WriteByte(s[i])
				continue
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String()
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// The first '=' not preceded by a backslash separates key and value.
		sep := -1
		for i := 0; i < len(line); i++ {
			if line[i] == '\\' {
				i++
				continue
			}
			if line[i] == '=' {
				sep = i
				break
			}
		}
		require.GreaterOrEqual(t, sep, 0, "line without '=': %q", line)
		k := unescape(line[:sep])
		_, dup := out[k]
		require.False(t, dup, "duplicate key %q", k)
		out[k] = unescape(line[sep+1:])
	}
	return out
}

func TestServerPropertiesOAuthUnderListenerPrefix(t *testing.T) {
	t.Parallel()
	o, err := validOptions().withDefaults()
	require.NoError(t, err)
	props := parseProperties(t, serverProperties(o, ports{client: 9001, admin: 9002, controller: 9003}, "/data"))

	want := map[string]string{
		"process.roles":                                     "broker,controller",
		"controller.quorum.voters":                          "1@127.0.0.1:9003",
		"listeners":                                         "CLIENT://127.0.0.1:9001,INTERNAL://127.0.0.1:9002,CONTROLLER://127.0.0.1:9003",
		"advertised.listeners":                              "CLIENT://127.0.0.1:9001,INTERNAL://127.0.0.1:9002",
		"listener.security.protocol.map":                    "CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":                        "INTERNAL",
		"sasl.enabled.mechanisms":                           "OAUTHBEARER",
		"listener.name.client.oauthbearer.sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
		"listener.name.client.oauthbearer.sasl.server.callback.handler.class":  "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
		"listener.name.client.oauthbearer.sasl.oauthbearer.jwks.endpoint.url":  o.JWKSURL,
		"listener.name.client.oauthbearer.sasl.oauthbearer.expected.audience":  "kafka",
		"listener.name.client.oauthbearer.sasl.oauthbearer.expected.issuer":    o.Issuer,
		"listener.name.client.oauthbearer.sasl.oauthbearer.sub.claim.name":     "sub",
		"listener.name.client.oauthbearer.sasl.oauthbearer.clock.skew.seconds": "30",
		"offsets.topic.replication.factor":                                     "1",
		"transaction.state.log.replication.factor":                             "1",
		"log.dirs": "/data",
	}
	for k, v := range want {
		assert.Equal(t, v, props[k], "property %s", k)
	}
	assert.Equal(t, "listener.name."+strings.ToLower(ClientListener)+".oauthbearer.", oauthPrefix)
	// An unprefixed validator setting would be ignored by the listener,
	// which would then fall back to the unsecured validator.
	for k := range props {
		if strings.HasPrefix(k, "sasl.oauthbearer.") || strings.HasPrefix(k, "sasl.server.callback") || k == "sasl.jaas.config" {
			t.Errorf("OAUTHBEARER setting %s is not under the listener prefix", k)
		}
	}
	assert.NotContains(t, props, "connections.max.reauth.ms", "unset unless Options.Reauth is given")
}

func TestServerPropertiesOptions(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		mod  func(*Options)
		want map[string]string
	}{
		"reauth": {
			mod:  func(o *Options) { o.Reauth = 1500 * time.Millisecond },
			want: map[string]string{"connections.max.reauth.ms": "1500"},
		},
		"sub claim and skew": {
			mod: func(o *Options) { o.SubClaim = "oid"; o.ClockSkew = 5 * time.Second },
			want: map[string]string{
				oauthPrefix + "sasl.oauthbearer.sub.claim.name":     "oid",
				oauthPrefix + "sasl.oauthbearer.clock.skew.seconds": "5",
			},
		},
		"no skew": {
			mod:  func(o *Options) { o.ClockSkew = -1 },
			want: map[string]string{oauthPrefix + "sasl.oauthbearer.clock.skew.seconds": "0"},
		},
		"extra properties override": {
			mod: func(o *Options) {
				o.ExtraProperties = map[string]string{"auto.create.topics.enable": "true", "weird key=x": "line1\nline2 \\ # !"}
			},
			want: map[string]string{"auto.create.topics.enable": "true", "weird key=x": "line1\nline2 \\ # !"},
		},
		"value with leading space and hash": {
			mod:  func(o *Options) { o.ExtraProperties = map[string]string{"a": " #x", "b": "#y"} },
			want: map[string]string{"a": " #x", "b": "#y"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := validOptions()
			tc.mod(&o)
			o, err := o.withDefaults()
			require.NoError(t, err)
			props := parseProperties(t, serverProperties(o, ports{1, 2, 3}, "/d"))
			for k, v := range tc.want {
				assert.Equal(t, v, props[k], "property %q", k)
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		mod     func(*Options)
		wantErr string
	}{
		"missing all":     {mod: func(o *Options) { *o = Options{} }, wantErr: "Options.JWKSURL, Options.Issuer, Options.Audience is empty"},
		"missing aud":     {mod: func(o *Options) { o.Audience = "" }, wantErr: "Options.Audience is empty"},
		"file JWKS":       {mod: func(o *Options) { o.JWKSURL = "file:///tmp/jwks.json" }, wantErr: `Options.JWKSURL is "file:///tmp/jwks.json"`},
		"negative reauth": {mod: func(o *Options) { o.Reauth = -time.Second }, wantErr: "Options.Reauth is -1s"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := validOptions()
			tc.mod(&o)
			_, err := o.withDefaults()
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.True(t, strings.HasPrefix(err.Error(), "kafkatest: "), err.Error())
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Setenv("KWI_KAFKA_HOME", "/opt/kafka-jars")
	o, err := validOptions().withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "/opt/kafka-jars", o.Home)
	assert.Equal(t, "sub", o.SubClaim)
	assert.Equal(t, 30*time.Second, o.ClockSkew)
	assert.Equal(t, 120*time.Second, o.StartTimeout)
	assert.Equal(t, 15*time.Second, o.StopTimeout)

	t.Setenv("KWI_KAFKA_HOME", "")
	assert.True(t, strings.HasSuffix(DefaultHome(), filepath.Join(".cache", "kafka-workload-identity", "kafka")), DefaultHome())
}

func TestEscapeProperty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in        string
		key       bool
		want      string
		wantAsKey string
	}{
		{in: "plain.value", want: "plain.value"},
		{in: `a\b`, want: `a\\b`},
		{in: "a=b:c", want: "a=b:c"},
		{in: "a=b:c", key: true, want: `a\=b\:c`},
		{in: "#x", want: `\#x`},
		{in: "x#", want: "x#"},
		{in: "a\nb", want: `a\nb`},
		{in: "k y", key: true, want: `k\ y`},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, escapeProperty(tc.in, tc.key), "escapeProperty(%q, key=%v)", tc.in, tc.key)
	}
}

func TestNewClusterID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		id, err := newClusterID()
		require.NoError(t, err)
		require.Len(t, id, 22, "16 bytes in unpadded base64url")
		require.False(t, strings.HasPrefix(id, "-"), id)
		require.NotContains(t, id, "=")
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"4.2.0": true, "4.4.0": true, "4.10.1": true, "5.0.0": true,
		"4.1.1": false, "4.1.0": false, "3.9.1": false, "x.y": false, "4": false,
	}
	for v, want := range cases {
		assert.Equal(t, want, versionAtLeast(v, 4, 2), v)
	}
}

func TestLocateJars(t *testing.T) {
	t.Parallel()
	noScript := func(string, string) error { t.Fatal("script run without a path"); return nil }
	makeLib := func(t *testing.T, jars ...string) string {
		home := t.TempDir()
		lib := filepath.Join(home, "lib")
		require.NoError(t, os.MkdirAll(lib, 0o755))
		for _, j := range jars {
			require.NoError(t, os.WriteFile(filepath.Join(lib, j), nil, 0o644))
		}
		return home
	}

	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		home := makeLib(t, jarsMarker, "kafka_2.13-4.4.0.jar", "kafka-clients-4.4.0.jar", "kafka_2.13-4.4.0-test.jar")
		lib, v, err := locateJars(home, "", noScript)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(home, "lib"), lib)
		assert.Equal(t, "4.4.0", v)
	})
	t.Run("missing names the fix", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		_, _, err := locateJars(home, "", noScript)
		require.ErrorIs(t, err, errNoJars)
		assert.ErrorContains(t, err, ".ci/kafka-jars.sh "+home)
	})
	t.Run("incomplete copy", func(t *testing.T) {
		t.Parallel()
		home := makeLib(t, "kafka_2.13-4.4.0.jar")
		_, _, err := locateJars(home, "", noScript)
		require.ErrorIs(t, err, errNoJars)
	})
	t.Run("too old", func(t *testing.T) {
		t.Parallel()
		home := makeLib(t, jarsMarker, "kafka_2.13-4.1.1.jar")
		_, _, err := locateJars(home, "", noScript)
		require.Error(t, err)
		assert.ErrorContains(t, err, "Kafka 4.1.1")
		assert.ErrorContains(t, err, "signature")
	})
	t.Run("script runs first", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		var ran []string
		lib, v, err := locateJars(home, "/repo/.ci/kafka-jars.sh", func(script, h string) error {
			ran = append(ran, script, h)
			makeIn := filepath.Join(h, "lib")
			require.NoError(t, os.MkdirAll(makeIn, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(makeIn, jarsMarker), nil, 0o644))
			return os.WriteFile(filepath.Join(makeIn, "kafka_2.13-4.2.2.jar"), nil, 0o644)
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"/repo/.ci/kafka-jars.sh", home}, ran)
		assert.Equal(t, filepath.Join(home, "lib"), lib)
		assert.Equal(t, "4.2.2", v)
	})
	t.Run("script fails", func(t *testing.T) {
		t.Parallel()
		_, _, err := locateJars(t.TempDir(), "/repo/.ci/kafka-jars.sh", func(string, string) error {
			return errors.New("exit status 1")
		})
		require.ErrorIs(t, err, errNoJars)
		assert.ErrorContains(t, err, "exit status 1")
	})
}

func TestRedactJWTs(t *testing.T) {
	t.Parallel()
	in := `WARN rejected JsonWebSignature{"alg":"RS256"}->eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_x] next eyJonly`
	got := redactJWTs(in)
	assert.Equal(t, `WARN rejected JsonWebSignature{"alg":"RS256"}-><JWT redacted>] next eyJonly`, got)
}
