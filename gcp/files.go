package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// credentialsLimit bounds a Google credentials file: a service-account
// key is about 2.4 KB, an external account's configuration less.
const credentialsLimit = 64 << 10

// subjectTokenLimit bounds an external account's credential_source.file,
// as x/oauth2 bounds it.
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

// externalFileSource is golang.org/x/oauth2's external account token
// source for a configuration whose credential_source is a file, with the
// file read by us: at each fetch, through the bounded reader under the
// fetch's context (x/oauth2 would open it with a blocking open and no
// context, so a FIFO would block its goroutine for good, past the fetch
// and past Close). The configuration's fields map to
// externalaccount.Config exactly as x/oauth2/google maps them. ok is false
// for every other kind of credentials.
func (c *creds) externalFileSource(ctx context.Context, scopes []string) (ts oauth2.TokenSource, ok bool, err error) {
	if c.typ != "external_account" || c.subjectFile == "" {
		return nil, false, nil
	}
	var f struct {
		Audience                 string `json:"audience"`
		SubjectTokenType         string `json:"subject_token_type"`
		TokenURL                 string `json:"token_url"`
		TokenInfoURL             string `json:"token_info_url"`
		ImpersonationURL         string `json:"service_account_impersonation_url"`
		ClientSecret             string `json:"client_secret"`
		ClientID                 string `json:"client_id"`
		QuotaProjectID           string `json:"quota_project_id"`
		WorkforcePoolUserProject string `json:"workforce_pool_user_project"`
		Impersonation            struct {
			TokenLifetimeSeconds int `json:"token_lifetime_seconds"`
		} `json:"service_account_impersonation"`
		CredentialSource externalaccount.CredentialSource `json:"credential_source"`
	}
	if err := json.Unmarshal(c.json, &f); err != nil {
		return nil, true, fmt.Errorf("gcp: the %q credentials from %s do not parse; check the file; %s", c.typ, c.setting, see("gcp-no-adc"))
	}
	cfg := externalaccount.Config{
		Audience: f.Audience, SubjectTokenType: f.SubjectTokenType, TokenURL: f.TokenURL, TokenInfoURL: f.TokenInfoURL,
		ServiceAccountImpersonationURL: f.ImpersonationURL, ServiceAccountImpersonationLifetimeSeconds: f.Impersonation.TokenLifetimeSeconds,
		ClientSecret: f.ClientSecret, ClientID: f.ClientID, QuotaProjectID: f.QuotaProjectID, Scopes: scopes,
		WorkforcePoolUserProject: f.WorkforcePoolUserProject,
		SubjectTokenSupplier:     subjectFile{c: c, format: f.CredentialSource.Format},
	}
	ts, err = externalaccount.NewTokenSource(contextWithClient(ctx, c), cfg)
	if err != nil {
		return nil, true, fmt.Errorf("gcp: the %q credentials from %s are not usable (%s); check the file; %s", c.typ, c.setting, srvtext.Clip(srvtext.Field(err.Error()), 300), see("gcp-no-adc"))
	}
	return ts, true, nil
}

// subjectFile supplies an external account's subject token from its
// credential_source.file, read through the bounded reader, in the format
// the configuration names (text, or a JSON object's field).
type subjectFile struct {
	c      *creds
	format externalaccount.Format
}

func (s subjectFile) SubjectToken(ctx context.Context, _ externalaccount.SupplierOptions) (string, error) {
	b, err := boundedfile.Read(ctx, s.c.subjectFile, subjectTokenLimit)
	if err != nil {
		return "", fmt.Errorf("gcp: cannot read the subject token file %q (credential_source.file in the %q credentials from %s): %w; point it at the token file itself, a regular file; %s",
			s.c.subjectFile, s.c.typ, s.c.setting, err, see("gcp-no-adc"))
	}
	b = bytes.TrimSpace(b)
	tok := string(b)
	switch s.format.Type {
	case "", "text":
	case "json":
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return "", fmt.Errorf("gcp: the subject token file %q is not JSON, as credential_source.format.type says", s.c.subjectFile)
		}
		v, ok := m[s.format.SubjectTokenFieldName].(string)
		if !ok {
			return "", fmt.Errorf("gcp: the subject token file %q has no string field %q (credential_source.format.subject_token_field_name)", s.c.subjectFile, s.format.SubjectTokenFieldName)
		}
		tok = v
	default:
		return "", fmt.Errorf("gcp: credential_source.format.type is %q in the %q credentials from %s; use \"text\" or \"json\"", s.format.Type, s.c.typ, s.c.setting)
	}
	// The token is sent in the exchange's form, where the gate records
	// it too; recorded here as well, for the library's own messages.
	fetchrec.Record(ctx, tok)
	return tok, nil
}
