package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
)

// credentialsLimit bounds a Google credentials file: a service-account
// key is about 2.4 KB, an external account's configuration less.
const credentialsLimit = 64 << 10

// subjectTokenLimit is x/oauth2's own limit on an external account's
// credential_source.file, which it reads itself.
const subjectTokenLimit = 1 << 20

// adcFile reads the file Application Default Credentials would read,
// as golang.org/x/oauth2/google looks for it (GOOGLE_APPLICATION_CREDENTIALS,
// then gcloud's well-known file), but through the bounded reader under
// ctx: a FIFO, a device or a huge file named there is refused, not waited
// on or read whole. It returns nil bytes when neither exists, which
// leaves ADC the metadata server.
func adcFile(ctx context.Context) (b []byte, setting string, err error) {
	if p := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		b, err := boundedfile.Read(ctx, p, credentialsLimit)
		if err != nil {
			return nil, "", kindf(ErrNoCredentials, err, "gcp: cannot read the credentials file %q that GOOGLE_APPLICATION_CREDENTIALS names: %v; point it at a Google credentials JSON file (at most %d KiB); %s",
				p, err, credentialsLimit>>10, see("gcp-no-adc"))
		}
		return b, "GOOGLE_APPLICATION_CREDENTIALS", nil
	}
	p := wellKnownFile()
	if p == "" {
		return nil, "", nil
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	b, err = boundedfile.Read(ctx, p, credentialsLimit)
	if err != nil {
		return nil, "", kindf(ErrNoCredentials, err, "gcp: cannot read gcloud's Application Default Credentials file %q: %v; run `gcloud auth application-default login` again or remove it; %s", p, err, see("gcp-no-adc"))
	}
	return b, "Application Default Credentials (" + p + ")", nil
}

// wellKnownFile is where gcloud writes Application Default Credentials,
// as golang.org/x/oauth2/google finds it.
func wellKnownFile() string {
	const f = "application_default_credentials.json"
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("APPDATA"), "gcloud", f)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "gcloud", f)
}

// endpoints are the URLs a credentials file names, which the library
// sends credentials to.
type endpoints struct {
	TokenURI          string `json:"token_uri"`
	TokenURL          string `json:"token_url"`
	TokenInfoURL      string `json:"token_info_url"`
	ImpersonationURL  string `json:"service_account_impersonation_url"`
	SourceCredentials *struct {
		TokenURI string `json:"token_uri"`
	} `json:"source_credentials"`
	CredentialSource *struct {
		File         string `json:"file"`
		URL          string `json:"url"`
		IMDSv2URL    string `json:"imdsv2_session_token_url"`
		RegionURL    string `json:"region_url"`
		CredVerifURL string `json:"regional_cred_verification_url"`
	} `json:"credential_source"`
}

// checkEndpoints refuses a credentials file that would send a credential
// (a signed assertion, a refresh token, a subject token) over plain http
// to a host other than loopback, before anything is sent: token_uri,
// token_url and the impersonation URL must be https (or loopback); an
// external account's credential_source URLs may also be link-local
// metadata servers (Azure IMDS, AWS IMDS).
func (c *creds) checkEndpoints() error {
	var e endpoints
	_ = json.Unmarshal(c.json, &e)
	field := func(name string) string {
		return fmt.Sprintf("%s in the %q credentials from %s", name, c.typ, c.setting)
	}
	for name, u := range map[string]string{"token_uri": e.TokenURI, "token_url": e.TokenURL, "token_info_url": e.TokenInfoURL, "service_account_impersonation_url": e.ImpersonationURL} {
		if u == "" {
			continue
		}
		if err := idphttp.CheckEndpoint("gcp", field(name), u); err != nil {
			return err
		}
	}
	if e.SourceCredentials != nil && e.SourceCredentials.TokenURI != "" {
		if err := idphttp.CheckEndpoint("gcp", field("source_credentials.token_uri"), e.SourceCredentials.TokenURI); err != nil {
			return err
		}
	}
	if cs := e.CredentialSource; cs != nil {
		for name, u := range map[string]string{"credential_source.url": cs.URL, "credential_source.imdsv2_session_token_url": cs.IMDSv2URL, "credential_source.region_url": cs.RegionURL} {
			if u == "" {
				continue
			}
			if err := idphttp.CheckMetadataEndpoint("gcp", field(name), u); err != nil {
				return err
			}
		}
		c.subjectFile = cs.File
	}
	return nil
}

// checkSubjectFile refuses, at each fetch and before the library opens
// it, an external account's credential_source.file that is not a regular
// file of at most the library's limit: the library opens it with a
// blocking open and no context, so a FIFO would block its goroutine for
// good, past the fetch and past Close.
func (c *creds) checkSubjectFile() error {
	if c.subjectFile == "" {
		return nil
	}
	size, err := boundedfile.Check(c.subjectFile)
	if err == nil && size > subjectTokenLimit {
		err = fmt.Errorf("%w: %d bytes, more than the limit of %d bytes", boundedfile.ErrTooLarge, size, subjectTokenLimit)
	}
	if err != nil {
		return fmt.Errorf("gcp: cannot read the subject token file %q (credential_source.file in the %q credentials from %s): %w; point it at the token file itself, a regular file; %s",
			c.subjectFile, c.typ, c.setting, err, see("gcp-no-adc"))
	}
	return nil
}
