// Package idpclient builds the *http.Client that every source of this
// module takes as its HTTPClient option (oauthclient, confluent, the
// azure, aws and gcp modules, clientprops.BuildOptions), for identity
// providers behind a private CA, mutual TLS or a proxy (see the
// package's examples: a private CA added to the system roots, a client
// certificate sent to the identity provider's host only).
//
// Every source puts the client behind the module's credential gate
// (https only, no redirects, bounded replies), which also keeps metadata
// servers (Azure IMDS, the GCE metadata server) off any proxy: their
// vendors document that they must be reached directly. Nothing here can
// make TLS weaker than Go's default: there is no way to skip
// verification, and versions below TLS 1.2 are refused.
package idpclient

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Options configure [New]. The zero value gives the default client: the
// system roots, no client certificate, TLS 1.2 or newer, the proxy from
// the environment. Fields have no environment fallback except Proxy.
type Options struct {
	// RootCAFile is a PEM file of CA certificates (one or a bundle),
	// added to the system roots (or replacing them, see
	// ReplaceSystemRoots). It is read at construction and again whenever
	// its size or modification time changes, so a rotated bundle applies
	// to the next request. At most 1 MiB.
	RootCAFile string
	// RootCAPEM are PEM CA certificates given inline, treated as
	// RootCAFile.
	RootCAPEM []byte
	// ReplaceSystemRoots trusts RootCAFile and RootCAPEM only, as a Java
	// truststore does. Default false: they are added to the system roots.
	ReplaceSystemRoots bool
	// RootCAs, when set, replaces the system roots; RootCAFile and
	// RootCAPEM are added to a copy of it.
	RootCAs *x509.CertPool

	// CertFile is a PEM file with the client certificate (chain) for
	// mutual TLS, and KeyFile the PEM private key (default: CertFile,
	// which then holds both). Both are re-read when they change.
	CertFile, KeyFile string
	// KeyPassphrase decrypts an encrypted PKCS#8 key (see
	// [oauthclient.ParsePrivateKeyPEM]). It never prints.
	KeyPassphrase oauthclient.Secret
	// CertHosts restricts the client certificate to these host names:
	// requests to other hosts are sent without it. Default: every host
	// the client is used for; set it when a source may call more than the
	// token endpoint (discovery, metadata).
	CertHosts []string

	// MinVersion is tls.VersionTLS12 (the default) or tls.VersionTLS13;
	// lower versions are refused.
	MinVersion uint16

	// Proxy is an explicit proxy URL (http://host:port or
	// https://host:port, optionally with user:password@ for Basic proxy
	// authentication, which is refused over http:// unless the proxy is
	// on this host), used for every https request except those to
	// loopback hosts and metadata servers; plain-http requests (loopback
	// test servers, metadata servers) are never proxied. Default:
	// HTTPS_PROXY and NO_PROXY from the environment, with the same rules.
	// A proxy that answers 407 or cannot be reached gives an error naming
	// it, without its credentials.
	Proxy string
}

// ErrInvalidProxy is matched with errors.Is by the error [New] returns
// for an Options.Proxy that is not a proxy URL or that would send proxy
// credentials in clear text, and by the error of a request whose
// HTTPS_PROXY from the environment would.
var ErrInvalidProxy = idphttp.ErrInvalidProxy

// New returns an HTTP client configured as o says; nil o is the default.
// Files are read now, so a missing or malformed file is an error here,
// naming the option. Requests that fail certificate verification return
// an error naming the host and the option the roots came from.
func New(o *Options) (*http.Client, error) {
	var v Options
	if o != nil {
		v = *o
	}
	proxy := idphttp.EnvironmentProxy
	if v.Proxy != "" {
		p, err := idphttp.ProxyURL("idpclient.Options.Proxy", v.Proxy)
		if err != nil {
			return nil, err // names idpclient.Options.Proxy, matches ErrInvalidProxy
		}
		proxy = p
	}
	to := &idphttp.TLSOptions{
		RootCAFile: v.RootCAFile, RootCAPEM: v.RootCAPEM, ReplaceRoots: v.ReplaceSystemRoots, Roots: v.RootCAs,
		CertFile: v.CertFile, KeyFile: v.KeyFile, CertHosts: v.CertHosts, MinVersion: v.MinVersion,
		Setting: "idpclient.Options.RootCAFile", CertSetting: "idpclient.Options.CertFile",
		MinVersionSetting: "idpclient.Options.MinVersion",
	}
	if v.KeyFile != "" {
		to.KeySetting = "idpclient.Options.KeyFile"
	}
	if v.CertFile != "" {
		pass := v.KeyPassphrase
		to.ParseKey = func(b []byte) (crypto.Signer, error) { return oauthclient.ParsePrivateKeyPEM(b, pass) }
	}
	rt, err := idphttp.NewTLSTransport(to, proxy)
	if err != nil {
		return nil, fmt.Errorf("idpclient: %w", err)
	}
	return &http.Client{Transport: rt, Timeout: idphttp.DefaultTimeout}, nil
}

// shown is what printers and encoders see of Options: the proxy without
// its password, the passphrase redacted, the pools summarised.
type shown struct {
	RootCAFile         string
	RootCAPEM          int // bytes
	ReplaceSystemRoots bool
	RootCAs            bool
	CertFile, KeyFile  string
	KeyPassphrase      string
	CertHosts          []string
	MinVersion         uint16
	Proxy              string
}

func (o Options) shown() shown {
	p := o.Proxy
	if u, err := url.Parse(p); err == nil {
		p = u.Redacted()
	} else if p != "" {
		p = "<unparsable proxy URL>"
	}
	return shown{o.RootCAFile, len(o.RootCAPEM), o.ReplaceSystemRoots, o.RootCAs != nil, o.CertFile, o.KeyFile,
		o.KeyPassphrase.String(), o.CertHosts, o.MinVersion, p}
}

// Format prints the options with the proxy password and the key
// passphrase redacted, for every verb.
func (o Options) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "idpclient.Options%+v", o.shown())
}

// MarshalText encodes the options with the secrets redacted (YAML, XML
// and map keys use it).
func (o Options) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%v", o), nil }

// MarshalJSON encodes the options with the secrets redacted.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.shown()) }

// LogValue keeps the secrets out of log/slog output.
func (o Options) LogValue() slog.Value { return slog.AnyValue(o.shown()) }

// GobEncode encodes the redacted form.
func (o Options) GobEncode() ([]byte, error) { return o.MarshalText() }
