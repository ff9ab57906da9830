package idphttp

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
)

// TLSOptions configure the TLS of the requests a source makes to its
// identity provider: the roots that verify the server, a client
// certificate for mutual TLS (RFC 8705), and the minimum version. The
// zero value is the default: the system roots, no client certificate,
// TLS 1.2 or newer. Nothing here can make verification weaker than the
// default: there is no "skip verification", and versions below TLS 1.2
// are refused.
type TLSOptions struct {
	// RootCAFile is a PEM file of CA certificates (one or a bundle),
	// read through internal/boundedfile and read again whenever its size
	// or modification time changes, so a rotated CA bundle applies to the
	// next request. The certificates are added to the system roots, or
	// replace them with ReplaceRoots.
	RootCAFile string
	// RootCAPEM are PEM CA certificates given inline (librdkafka's
	// https.ca.pem, Kafka's ssl.truststore.certificates); treated as
	// RootCAFile.
	RootCAPEM []byte
	// ReplaceRoots makes RootCAFile and RootCAPEM the only roots (as a
	// Java truststore is): the system roots are not trusted.
	ReplaceRoots bool
	// Roots, when set, replaces the system roots; RootCAFile and
	// RootCAPEM are added to a copy of it.
	Roots *x509.CertPool

	// CertFile and KeyFile are the PEM client certificate (chain) and
	// private key for mutual TLS; one file may hold both. Re-read when
	// they change, as RootCAFile.
	CertFile, KeyFile string
	// CertPEM and KeyPEM are the client certificate and key given
	// inline. The key is a secret.
	CertPEM, KeyPEM []byte
	// ParseKey parses the PEM private key (to decrypt an encrypted
	// key). Default: tls.X509KeyPair's parser, which refuses encrypted
	// keys.
	ParseKey func(pemKey []byte) (crypto.Signer, error)
	// CertHosts restricts the client certificate to these hosts
	// (hostname, no port): a request to another host is sent without
	// it, so the certificate reaches only the endpoint configured with
	// it. Empty: every host the client is used for.
	CertHosts []string

	// MinVersion is the lowest TLS version accepted: tls.VersionTLS12
	// (the default) or tls.VersionTLS13. Lower versions are refused.
	MinVersion uint16

	// Setting names the option or property the roots came from, and
	// CertSetting the one the client certificate came from, for errors
	// ("sasl.jaas.config option ssl.truststore.location"). KeySetting
	// names KeyFile when it is a setting of its own (default
	// CertSetting). MinVersionSetting names MinVersion (default
	// "TLSOptions.MinVersion").
	Setting, CertSetting, KeySetting, MinVersionSetting string
}

// certLimit bounds certificate and key files: a large CA bundle (all of
// Mozilla's roots) is about 250 KB.
const certLimit = 1 << 20

// ErrTLSOption is matched with errors.Is by errors about TLSOptions.
var ErrTLSOption = errors.New("invalid token-endpoint TLS setting")

// NewTLSTransport returns a transport that sends through a fresh
// [Transport] whose TLS is configured as o says (and whose proxy is
// proxy; nil: none), rebuilt when a file it read changes. Files are read
// now, so a missing or malformed file is an error at construction,
// naming the setting. Handshake failures name the setting and the host.
func NewTLSTransport(o *TLSOptions, proxy func(*http.Request) (*url.URL, error)) (http.RoundTripper, error) {
	// The proxy is guarded here, once, so that the gate can keep this
	// transport (and the roots and key it loaded) as it is; only a
	// metadata client's own hosts need a guarded copy (gateBase).
	t := &tlsTransport{o: *o, proxy: guardProxy(proxy, "the HTTPClient's proxy", nil)}
	if t.o.MinVersion == 0 {
		t.o.MinVersion = tls.VersionTLS12
	}
	if t.o.MinVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: %s asks for a TLS version below 1.2, which is weaker than the default and not supported; use TLS 1.2 or 1.3", ErrTLSOption, or(t.o.MinVersionSetting, "TLSOptions.MinVersion"))
	}
	if t.o.KeyFile == "" {
		t.o.KeyFile = t.o.CertFile // one file with both
	}
	if _, _, err := t.current(context.Background()); err != nil {
		return nil, err
	}
	return t, nil
}

type tlsTransport struct {
	o     TLSOptions
	proxy func(*http.Request) (*url.URL, error)

	mu       sync.Mutex
	stamp    string
	cert, no *http.Transport // with and without the client certificate
}

func (t *tlsTransport) hasCert() bool {
	return t.o.CertFile != "" || len(t.o.CertPEM) > 0
}

// stampOf identifies the files' current versions.
func (t *tlsTransport) stampOf() (string, error) {
	var b strings.Builder
	for _, f := range []struct{ path, setting string }{{t.o.RootCAFile, t.o.Setting}, {t.o.CertFile, t.o.CertSetting}, {t.o.KeyFile, or(t.o.KeySetting, t.o.CertSetting)}} {
		if f.path == "" {
			continue
		}
		st, err := os.Stat(f.path)
		if err != nil {
			return "", fmt.Errorf("%w: %s %q cannot be read: %v", ErrTLSOption, or(f.setting, "TLSOptions"), f.path, pathErr(err))
		}
		fmt.Fprintf(&b, "%s:%d:%d;", f.path, st.Size(), st.ModTime().UnixNano())
	}
	return b.String(), nil
}

// current returns the transports for the files as they are now.
func (t *tlsTransport) current(ctx context.Context) (cert, no *http.Transport, err error) {
	stamp, err := t.stampOf()
	if err != nil {
		return nil, nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.no != nil && stamp == t.stamp {
		return t.cert, t.no, nil
	}
	cfg, err := t.config(ctx)
	if err != nil {
		return nil, nil, err
	}
	no = Transport()
	no.Proxy = t.proxy
	noCfg := cfg.Clone()
	noCfg.Certificates = nil
	no.TLSClientConfig = noCfg
	if t.hasCert() {
		cert = Transport()
		cert.Proxy = t.proxy
		cert.TLSClientConfig = cfg
	}
	if t.no != nil {
		t.no.CloseIdleConnections()
		if t.cert != nil {
			t.cert.CloseIdleConnections()
		}
	}
	t.stamp, t.cert, t.no = stamp, cert, no
	return cert, no, nil
}

// config reads the files and builds the TLS configuration.
func (t *tlsTransport) config(ctx context.Context) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: t.o.MinVersion}
	var extra []byte
	if t.o.RootCAFile != "" {
		b, err := boundedfile.Read(ctx, t.o.RootCAFile, certLimit)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q cannot be read: %v", ErrTLSOption, or(t.o.Setting, "TLSOptions.RootCAFile"), t.o.RootCAFile, err)
		}
		extra = append(extra, b...)
		extra = append(extra, '\n')
	}
	extra = append(extra, t.o.RootCAPEM...)
	if len(extra) > 0 || t.o.Roots != nil || t.o.ReplaceRoots {
		var pool *x509.CertPool
		switch {
		case t.o.Roots != nil:
			pool = t.o.Roots.Clone()
		case t.o.ReplaceRoots:
			pool = x509.NewCertPool()
		default:
			sys, err := x509.SystemCertPool()
			if err != nil || sys == nil {
				sys = x509.NewCertPool()
			}
			pool = sys
		}
		if len(extra) > 0 {
			n, err := addPEMCerts(pool, extra)
			if err != nil || n == 0 {
				why := "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
				if err != nil {
					why = err.Error()
				}
				return nil, fmt.Errorf("%w: %s: %s; give the CA certificates in PEM", ErrTLSOption, or(t.o.Setting, "TLSOptions.RootCAFile"), why)
			}
		}
		cfg.RootCAs = pool
	}
	if t.hasCert() {
		c, err := t.clientCert(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

func addPEMCerts(pool *x509.CertPool, data []byte) (int, error) {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return n, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return n, fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
}

// clientCert reads the client certificate and key.
func (t *tlsTransport) clientCert(ctx context.Context) (tls.Certificate, error) {
	setting := or(t.o.CertSetting, "TLSOptions.CertFile")
	certPEM, keyPEM := t.o.CertPEM, t.o.KeyPEM
	if t.o.CertFile != "" {
		b, err := boundedfile.Read(ctx, t.o.CertFile, certLimit)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: %s %q cannot be read: %v", ErrTLSOption, setting, t.o.CertFile, err)
		}
		certPEM = b
		if keyPEM == nil {
			if keyPEM, err = boundedfile.Read(ctx, t.o.KeyFile, certLimit); err != nil {
				return tls.Certificate{}, fmt.Errorf("%w: %s %q cannot be read: %v", ErrTLSOption, or(t.o.KeySetting, setting), t.o.KeyFile, err)
			}
		}
	}
	var c tls.Certificate
	for {
		var b *pem.Block
		b, certPEM = pem.Decode(certPEM)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			c.Certificate = append(c.Certificate, b.Bytes)
		}
	}
	if len(c.Certificate) == 0 {
		return tls.Certificate{}, fmt.Errorf("%w: %s holds no PEM client certificate (-----BEGIN CERTIFICATE-----)", ErrTLSOption, setting)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %s: the client certificate does not parse: %v", ErrTLSOption, setting, err)
	}
	c.Leaf = leaf
	if t.o.ParseKey != nil {
		k, err := t.o.ParseKey(keyPEM)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: %s: %w", ErrTLSOption, setting, err)
		}
		c.PrivateKey = k
	} else {
		// X509KeyPair checks that the key matches; its errors describe
		// structure only.
		pair, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), keyPEM)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: %s: the private key: %v", ErrTLSOption, setting, err)
		}
		c.PrivateKey = pair.PrivateKey
	}
	if !publicKeyMatches(leaf, c.PrivateKey) {
		return tls.Certificate{}, fmt.Errorf("%w: %s: the private key does not belong to the client certificate", ErrTLSOption, setting)
	}
	return c, nil
}

func publicKeyMatches(leaf *x509.Certificate, k crypto.PrivateKey) bool {
	s, ok := k.(crypto.Signer)
	if !ok {
		return false
	}
	p, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(s.Public())
}

// RoundTrip sends req with the client certificate only to CertHosts.
func (t *tlsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cert, no, err := t.current(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	tr := no
	if cert != nil && (len(t.o.CertHosts) == 0 || containsFold(t.o.CertHosts, req.URL.Hostname())) {
		tr = cert
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, t.explain(req, err)
	}
	return resp, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// TLSError reports a TLS handshake with an identity provider that failed
// verification, naming the host and the setting that gave the roots.
// The gate returns it for every client, so a source given no CA option
// says where one goes.
type TLSError struct {
	// Host is the endpoint's host (and port).
	Host string
	// Setting names where the trusted roots came from; empty: the
	// system roots.
	Setting string
	// Err is the verification error.
	Err error
}

// Error names the host and the setting and says what to check.
func (e *TLSError) Error() string {
	if e.Setting == "" {
		return fmt.Sprintf("the TLS certificate of %s is not trusted (%v); the trusted roots are the system roots: for an identity provider behind a private CA, give the source an HTTPClient from idpclient.New with idpclient.Options.RootCAFile (in client.properties: ssl.truststore.location in sasl.jaas.config, or https.ca.location), or check that the endpoint is the right one", e.Host, e.Err)
	}
	return fmt.Sprintf("the TLS certificate of %s is not trusted (%v); the trusted roots come from %s: add the CA that issued the server's certificate there (PEM), or check that the endpoint is the right one", e.Host, e.Err, e.Setting)
}

// Unwrap returns the verification error.
func (e *TLSError) Unwrap() error { return e.Err }

func (t *tlsTransport) explain(req *http.Request, err error) error {
	return explainTLS(req, t.o.Setting, err)
}

// explainTLS turns a certificate verification failure of req into a
// [*TLSError] naming its host and setting (empty: the system roots);
// other errors, and a *TLSError already made, are returned as they are.
func explainTLS(req *http.Request, setting string, err error) error {
	var te *TLSError
	if errors.As(err, &te) {
		return err
	}
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &hn) {
		return &TLSError{Host: req.URL.Host, Setting: setting, Err: unwrapVerify(err)}
	}
	return err
}

func unwrapVerify(err error) error {
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		return ve.Err
	}
	return err
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
