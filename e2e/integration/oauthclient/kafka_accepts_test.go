//go:build e2e

package oauthclient_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
)

// Kafka 4.4 itself accepts each of the files TestJavaPropertiesReachBroker
// builds: kafka-clients' OAuthBearerLoginCallbackHandler (testdata/
// KafkaLoginCheck.java, run with the jars the e2e suite fetches) parses
// and configures each and fetches a token from the same TLS OAuth
// server, with the same allow-lists passed as Kafka's system properties.
// It also shows that Kafka refuses a file the allow-list of files does not
// list, and logs the warning when both an assertion file and signing
// settings are given, as this library does.
func TestKafkaAcceptsJavaProperties(t *testing.T) {
	java, err := exec.LookPath("java")
	require.NoError(t, err, "java is needed (JDK 17+)")
	lib := filepath.Join(kafkatest.DefaultHome(), "lib")
	_, err = os.Stat(filepath.Join(lib, "kafka-clients-4.4.0.jar"))
	require.NoError(t, err, "kafka-clients 4.4.0 is needed: run .ci/kafka-jars.sh")
	check, err := filepath.Abs("testdata/KafkaLoginCheck.java")
	require.NoError(t, err)
	b := newJavaBench(t)
	run := func(t *testing.T, props string, files []string) string {
		path := filepath.Join(t.TempDir(), "client.properties")
		require.NoError(t, os.WriteFile(path, []byte(props), 0o600))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, _ := exec.CommandContext(ctx, java, "-Xmx128m", "-XX:+UseSerialGC",
			"-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls="+b.idp.TokenURL,
			"-Dorg.apache.kafka.sasl.oauthbearer.allowed.files="+strings.Join(files, ","),
			"-Dlog4j2.level=WARN", "-Dorg.apache.logging.log4j.level=WARN",
			"-cp", filepath.Join(lib, "*"), check, path).CombinedOutput()
		return string(out)
	}
	for _, tc := range b.cases {
		t.Run(tc.name, func(t *testing.T) {
			props, files := tc.props(t)
			out := run(t, props, files)
			assert.Contains(t, out, "principal="+tc.principal, out)
			if tc.wantWarn {
				assert.Contains(t, out, "Using file-based assertion (first preference)", out)
			}
		})
	}
	t.Run("file not on the allow-list", func(t *testing.T) {
		props, _ := b.cases[1].props(t) // the signed assertion's key file
		out := run(t, props, nil)
		assert.Contains(t, out, "refused", out)
		assert.Contains(t, out, "org.apache.kafka.sasl.oauthbearer.allowed.files", out)
	})
}
