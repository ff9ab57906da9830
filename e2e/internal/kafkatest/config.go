package kafkatest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ClientListener is the name of the SASL_PLAINTEXT OAUTHBEARER listener.
// Per-listener settings go under "listener.name.client." in
// [Options.ExtraProperties].
const ClientListener = "CLIENT"

// AdminListener is the name of the unauthenticated PLAINTEXT listener that
// is also the inter-broker listener.
const AdminListener = "INTERNAL"

const controllerListener = "CONTROLLER"

// oauthPrefix is where Kafka looks for the OAUTHBEARER settings of the
// client listener. Without this prefix a broker silently falls back to
// the unsecured validator, which accepts any well-formed token.
const oauthPrefix = "listener.name.client.oauthbearer."

// Options configures a broker started by [Start].
type Options struct {
	// JWKSURL is the JWKS endpoint the broker verifies signatures with,
	// for example idptest.Issuer.JWKSURL. Required. It must be
	// serving before Start is called: the broker fetches it at startup.
	// It is also the only URL the broker may fetch (Kafka's
	// org.apache.kafka.sasl.oauthbearer.allowed.urls system property).
	JWKSURL string

	// Issuer is the expected "iss" claim. Required.
	Issuer string

	// Audience is the expected "aud" claim (comma-separated for several).
	// Required.
	Audience string

	// SubClaim names the claim that becomes the principal. Default "sub".
	SubClaim string

	// ClockSkew is the leeway for exp, nbf and iat. Default 30 s (Kafka's
	// default); a negative value means none.
	ClockSkew time.Duration

	// Reauth, when positive, sets connections.max.reauth.ms: the broker
	// caps each session at this and closes a connection that outlives it
	// without re-authenticating. Default 0: sessions last as long as the
	// token.
	Reauth time.Duration

	// ExtraProperties are added to server.properties last, overriding
	// what Start writes. Default none.
	ExtraProperties map[string]string

	// Home is the directory holding lib/ with the Kafka jars. Default:
	// the KWI_KAFKA_HOME environment variable, else
	// $HOME/.cache/kafka-workload-identity/kafka.
	Home string

	// StartTimeout bounds the wait until the broker answers Metadata.
	// Default 120 s: a JVM on a busy two-core machine is slow to start.
	StartTimeout time.Duration

	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	// Default 15 s.
	StopTimeout time.Duration

	// JVMArgs are extra JVM flags, added after the defaults.
	JVMArgs []string
}

func (o Options) withDefaults() (Options, error) {
	var missing []string
	if o.JWKSURL == "" {
		missing = append(missing, "JWKSURL")
	}
	if o.Issuer == "" {
		missing = append(missing, "Issuer")
	}
	if o.Audience == "" {
		missing = append(missing, "Audience")
	}
	if len(missing) > 0 {
		return o, fmt.Errorf("kafkatest: Options.%s is empty; set it (for example from an idptest.Issuer)", strings.Join(missing, ", Options."))
	}
	if !strings.HasPrefix(o.JWKSURL, "http://") && !strings.HasPrefix(o.JWKSURL, "https://") {
		return o, fmt.Errorf("kafkatest: Options.JWKSURL is %q; use an http(s) URL such as idptest.Issuer.JWKSURL", o.JWKSURL)
	}
	if o.SubClaim == "" {
		o.SubClaim = "sub"
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = 30 * time.Second
	}
	if o.ClockSkew < 0 {
		o.ClockSkew = 0
	}
	if o.Reauth < 0 {
		return o, fmt.Errorf("kafkatest: Options.Reauth is %v; use a positive duration, or 0 to leave connections.max.reauth.ms unset", o.Reauth)
	}
	if o.Home == "" {
		o.Home = DefaultHome()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 120 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 15 * time.Second
	}
	return o, nil
}

// DefaultHome is where the jars are looked for when Options.Home is empty:
// $KWI_KAFKA_HOME, else $HOME/.cache/kafka-workload-identity/kafka (the
// same default as .ci/kafka-jars.sh).
func DefaultHome() string {
	if h := os.Getenv("KWI_KAFKA_HOME"); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "kafka-workload-identity", "kafka")
}

// ports are the three listener ports of one broker.
type ports struct{ client, admin, controller int }

// serverProperties renders server.properties for a single-node KRaft
// broker in combined mode. Keys are sorted so the file is reproducible.
func serverProperties(o Options, p ports, dataDir string) string {
	lc := strings.ToLower
	props := map[string]string{
		"process.roles":            "broker,controller",
		"node.id":                  "1",
		"controller.quorum.voters": fmt.Sprintf("1@127.0.0.1:%d", p.controller),
		"listeners": fmt.Sprintf("%s://127.0.0.1:%d,%s://127.0.0.1:%d,%s://127.0.0.1:%d",
			ClientListener, p.client, AdminListener, p.admin, controllerListener, p.controller),
		"advertised.listeners": fmt.Sprintf("%s://127.0.0.1:%d,%s://127.0.0.1:%d",
			ClientListener, p.client, AdminListener, p.admin),
		"listener.security.protocol.map": fmt.Sprintf("%s:SASL_PLAINTEXT,%s:PLAINTEXT,%s:PLAINTEXT",
			ClientListener, AdminListener, controllerListener),
		"inter.broker.listener.name":                                       AdminListener,
		"controller.listener.names":                                        controllerListener,
		"sasl.enabled.mechanisms":                                          "OAUTHBEARER",
		"listener.name." + lc(ClientListener) + ".sasl.enabled.mechanisms": "OAUTHBEARER",

		oauthPrefix + "sasl.jaas.config":                                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
		oauthPrefix + "sasl.server.callback.handler.class":              "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
		oauthPrefix + "sasl.oauthbearer.jwks.endpoint.url":              o.JWKSURL,
		oauthPrefix + "sasl.oauthbearer.expected.audience":              o.Audience,
		oauthPrefix + "sasl.oauthbearer.expected.issuer":                o.Issuer,
		oauthPrefix + "sasl.oauthbearer.sub.claim.name":                 o.SubClaim,
		oauthPrefix + "sasl.oauthbearer.clock.skew.seconds":             strconv.Itoa(int(o.ClockSkew / time.Second)),
		oauthPrefix + "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms": "100",

		"log.dirs":                                         dataDir,
		"metadata.log.dir":                                 dataDir,
		"num.partitions":                                   "1",
		"default.replication.factor":                       "1",
		"offsets.topic.replication.factor":                 "1",
		"offsets.topic.num.partitions":                     "1",
		"transaction.state.log.replication.factor":         "1",
		"transaction.state.log.min.isr":                    "1",
		"share.coordinator.state.topic.replication.factor": "1",
		"share.coordinator.state.topic.min.isr":            "1",
		"group.initial.rebalance.delay.ms":                 "0",
		"auto.create.topics.enable":                        "false",
	}
	if o.Reauth > 0 {
		props["connections.max.reauth.ms"] = strconv.FormatInt(o.Reauth.Milliseconds(), 10)
	}
	for k, v := range o.ExtraProperties {
		props[k] = v
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by internal/kafkatest.\n")
	for _, k := range keys {
		b.WriteString(escapeProperty(k, true))
		b.WriteByte('=')
		b.WriteString(escapeProperty(props[k], false))
		b.WriteByte('\n')
	}
	return b.String()
}

// escapeProperty escapes s for a java.util.Properties file: backslashes,
// line breaks, and in keys the separators, so a value can hold any text.
func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case key && (r == '=' || r == ':' || r == ' ' || r == '#' || r == '!'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case !key && i == 0 && (r == ' ' || r == '#' || r == '!'):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// log4jProperties logs to stdout (the broker log file) and turns on the
// OAUTHBEARER validator's debug lines, because a rejection's reason is
// logged only there: the client sees {"status":"invalid_token"} alone.
const log4jProperties = `status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d{HH:mm:ss.SSS}] %p %m (%c{1})%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.oauth.name = org.apache.kafka.common.security.oauthbearer
logger.oauth.level = DEBUG
logger.auth.name = org.apache.kafka.common.security.authenticator
logger.auth.level = DEBUG
`

// newClusterID returns a Kafka cluster ID: 16 random bytes in unpadded
// base64url, as StorageTool random-uuid prints, without paying a JVM
// start for it. Kafka rejects IDs that start with '-' (they look like a
// command-line flag), so those are drawn again.
func newClusterID() (string, error) {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if !strings.HasPrefix(id, "-") {
			return id, nil
		}
	}
}

// errNoJars is wrapped by locateJars when the jars are missing.
var errNoJars = errors.New("kafkatest: Kafka jars not found")

// jarsMarker is written by .ci/kafka-jars.sh once lib/ is complete.
const jarsMarker = ".complete"

// locateJars returns home/lib and the Kafka version found there, after
// running script (the path of .ci/kafka-jars.sh, or "" when it is not
// available) to fetch or refresh the jars. The script is a no-op when lib
// already holds its pinned version.
func locateJars(home, script string, run func(script, home string) error) (lib, version string, err error) {
	lib = filepath.Join(home, "lib")
	if script != "" {
		if err := run(script, home); err != nil {
			return "", "", fmt.Errorf("%w: %s %s failed: %v; run it by hand to see why", errNoJars, script, home, err)
		}
	}
	if _, err := os.Stat(filepath.Join(lib, jarsMarker)); err != nil {
		return "", "", fmt.Errorf("%w in %s; fetch them with: .ci/kafka-jars.sh %s (needs java and mvn), or set KWI_KAFKA_HOME", errNoJars, lib, home)
	}
	jars, _ := filepath.Glob(filepath.Join(lib, "kafka_2.13-*.jar"))
	for _, j := range jars {
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(j), "kafka_2.13-"), ".jar")
		if v != "" && !strings.ContainsAny(v, "-") {
			version = v
		}
	}
	if version == "" {
		return "", "", fmt.Errorf("%w: no kafka_2.13-<version>.jar in %s; delete %s and run .ci/kafka-jars.sh %s", errNoJars, lib, lib, home)
	}
	if !versionAtLeast(version, 4, 2) {
		return "", "", fmt.Errorf("kafkatest: Kafka %s in %s is too old: 4.1.0 and 4.1.1 accept JWTs without checking their signature; delete %s and run .ci/kafka-jars.sh %s", version, lib, lib, home)
	}
	return lib, version, nil
}

// versionAtLeast reports whether a "major.minor.patch" version is at
// least major.minor. Unparsable versions are treated as too old.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// jwtPattern matches a compact JWS whose header and payload are JSON
// objects (base64url of "{" followed by a quote starts with "eyJ").
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

func redactJWTs(s string) string { return jwtPattern.ReplaceAllString(s, "<JWT redacted>") }
