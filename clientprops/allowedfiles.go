package clientprops

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// AllowedFilesEnv is the environment variable holding the files a
// client.properties file may name in Kafka 4.4's assertion settings
// (sasl.oauthbearer.assertion.file, .private.key.file, .template.file),
// comma-separated, when [BuildOptions.AllowedFiles] is nil. It has the
// name of the Java system property Kafka 4.4 checks before reading such a
// file, so that the allow-list a deployment gives its Java clients
// (-Dorg.apache.kafka.sasl.oauthbearer.allowed.files=...) can be given to
// a Go service unchanged (see [AllowedURLsEnv] for passing a name with
// dots).
const AllowedFilesEnv = "org.apache.kafka.sasl.oauthbearer.allowed.files"

// ErrFileNotAllowed is matched with errors.Is by the [*PropertyError]
// [Config.NewSource] returns when a file the properties name is not on
// the allow-list of files.
var ErrFileNotAllowed = errors.New("clientprops: the file is not on the allow-list")

// checkAllowedFiles refuses, before anything reads them, the files the
// properties name that the allow-list in force does not list; Kafka 4.4's
// ConfigurationUtils.throwIfFileIsNotAllowed does the same with
// org.apache.kafka.sasl.oauthbearer.allowed.files, unset meaning that no
// file is allowed. A Config not made by Parse names no such files.
func (c *Config) checkAllowedFiles(b *BuildOptions) error {
	if len(c.files) == 0 {
		return nil
	}
	list := b.list(b.AllowedFiles, "BuildOptions.AllowedFiles", AllowedFilesEnv)
	for _, p := range c.files {
		abs := javaAbsolutePath(strings.TrimSpace(p.Value))
		if list.urls != nil && slices.Contains(list.urls, abs) {
			continue
		}
		why := "no allow-list of files is set, and then no file may be read, as in Kafka 4.4"
		if list.urls != nil {
			why = fmt.Sprintf("it is not in %s (%d entries, each compared with the whole absolute path exactly, as Kafka does)", list.source, len(list.urls))
		}
		return &PropertyError{Key: p.Key, Line: p.Line, Err: ErrFileNotAllowed,
			Reason: fmt.Sprintf("the file %s may not be read: %s; to allow it, add %s to BuildOptions.AllowedFiles or to the environment variable %s (comma-separated, like Kafka's system property of that name, which a Java client needs too); %s",
				srvtext.Quote(abs, 0), why, srvtext.Quote(abs, 0), AllowedFilesEnv, troubleshooting.See("oidc-client-properties"))}
	}
	return nil
}

// javaAbsolutePath is java.io.File's getAbsolutePath on Unix: repeated
// and trailing separators removed, and a relative path joined to the
// working directory, without resolving . or .. or links.
func javaAbsolutePath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if p == "" {
		return wd
	}
	return wd + string(filepath.Separator) + p
}
