package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
)

// sharedFileLimit bounds each shared config file, shared credentials file
// and CA bundle the default configuration reads: real ones are a few
// kilobytes (a CA bundle of every public root is about 220 KiB).
const sharedFileLimit = 1 << 20

// sharedFile is one file the SDK's default configuration would read, and
// the setting that names it, as the user wrote it.
type sharedFile struct {
	path, setting string
}

// boundedSharedFiles checks, within ctx, every file that
// config.LoadDefaultConfig would read with no context and no size limit:
// the shared config files (AWS_CONFIG_FILE, else ~/.aws/config), the
// shared credentials files (AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials) and the CA bundle (AWS_CA_BUNDLE, else the
// profile's ca_bundle). Each is read through the bounded reader: a FIFO,
// a device or a file over sharedFileLimit is refused, naming the setting,
// instead of blocking the constructor past ctx or being read whole.
//
// The SDK reads shared files only by path, so the load options returned
// name the files checked (HOME is read now, not at the SDK's init), and
// the CA bundle is handed over as the bytes read. A file replaced between
// this check and the SDK's read is read as the SDK reads it; whoever can
// do that can also write the credentials. A missing or unreadable file
// is left to the SDK, which treats it as empty.
func boundedSharedFiles(ctx context.Context) ([]func(*config.LoadOptions) error, error) {
	configFiles := []sharedFile{{config.DefaultSharedConfigFilename(), "the default shared config file"}}
	if v := os.Getenv("AWS_CONFIG_FILE"); v != "" {
		configFiles = []sharedFile{{v, "AWS_CONFIG_FILE"}}
	}
	credFiles := []sharedFile{{config.DefaultSharedCredentialsFilename(), "the default shared credentials file"}}
	if v := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); v != "" {
		credFiles = []sharedFile{{v, "AWS_SHARED_CREDENTIALS_FILE"}}
	}
	var cp, cr []string
	for _, f := range configFiles {
		if _, err := readShared(ctx, f); err != nil {
			return nil, err
		}
		cp = append(cp, f.path)
	}
	for _, f := range credFiles {
		if _, err := readShared(ctx, f); err != nil {
			return nil, err
		}
		cr = append(cr, f.path)
	}
	opts := []func(*config.LoadOptions) error{config.WithSharedConfigFiles(cp), config.WithSharedCredentialsFiles(cr)}

	ca := sharedFile{os.Getenv("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"}
	if ca.path == "" {
		// The profile's ca_bundle: the files were checked just above.
		profile := os.Getenv("AWS_PROFILE")
		if profile == "" {
			profile = os.Getenv("AWS_DEFAULT_PROFILE")
		}
		if profile == "" {
			profile = "default"
		}
		sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
			o.ConfigFiles, o.CredentialsFiles = cp, cr
		})
		if err == nil && sc.CustomCABundle != "" {
			ca = sharedFile{sc.CustomCABundle, "ca_bundle of profile " + profile}
		}
		// An error is LoadDefaultConfig's to report.
	}
	if ca.path != "" {
		b, err := readShared(ctx, ca)
		if err != nil {
			return nil, err
		}
		if b != nil {
			opts = append(opts, config.WithCustomCABundle(bytes.NewReader(b)))
		}
	}
	return opts, nil
}

// readShared reads f through the bounded reader; nil without an error
// when it is missing or unreadable (the SDK skips such a file).
func readShared(ctx context.Context, f sharedFile) ([]byte, error) {
	b, err := boundedfile.Read(ctx, f.path, sharedFileLimit)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission):
		return nil, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("aws: reading %s %q: %w", f.setting, f.path, err)
	}
	return nil, fmt.Errorf("aws: cannot use %s %q: %w; point it at a regular file of at most %d bytes", f.setting, f.path, err, sharedFileLimit)
}
