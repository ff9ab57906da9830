package clientprops

import (
	"crypto"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// TLSSettings are the token endpoint's TLS settings of the file: the
// ssl.* options of sasl.jaas.config that Kafka 4.4's HttpJwtRetriever
// applies to an https token endpoint (separately from the broker's
// top-level ssl.*), and librdkafka's https.ca.location and https.ca.pem.
// Only PEM stores are read; see [Parse] for what is refused.
type TLSSettings struct {
	// TrustStoreFile is a PEM file of the CA certificates that verify
	// the token endpoint (ssl.truststore.location with
	// ssl.truststore.type=PEM, or https.ca.location). As a Java
	// truststore, it replaces the system roots.
	TrustStoreFile string
	// TrustStorePEM are CA certificates given inline
	// (ssl.truststore.certificates, or https.ca.pem).
	TrustStorePEM string
	// TrustSetting names where the roots came from, for errors.
	TrustSetting string
	// KeyStoreFile is a PEM file with the client certificate chain and
	// private key for mutual TLS (ssl.keystore.location with
	// ssl.keystore.type=PEM).
	KeyStoreFile string
	// CertificateChainPEM and KeyPEM are the client certificate chain and
	// key given inline (ssl.keystore.certificate.chain and
	// ssl.keystore.key). KeyPEM is a secret: it never prints.
	CertificateChainPEM string
	KeyPEM              oauthclient.Secret
	// KeyPassphrase decrypts an encrypted PKCS#8 key (ssl.key.password),
	// named as idpclient.Options.KeyPassphrase. It never prints.
	KeyPassphrase oauthclient.Secret
	// KeySetting names where the client certificate came from.
	KeySetting string
	// MinVersion is the lowest TLS version of ssl.enabled.protocols (or
	// ssl.protocol): tls.VersionTLS12 or tls.VersionTLS13; 0 for the
	// default (TLS 1.2).
	MinVersion uint16
}

func (t *TLSSettings) isZero() bool { return t == nil || *t == TLSSettings{} }

// settings names the settings that gave the file's TLS, joined with
// " and ", for errors; a file setting only the TLS version names
// ssl.enabled.protocols.
func (t *TLSSettings) settings() string {
	var names []string
	for _, s := range []string{t.TrustSetting, t.KeySetting} {
		if s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return "sasl.jaas.config option ssl.enabled.protocols"
	}
	return strings.Join(names, " and ")
}

// jaasTLS takes the ssl.* options of sasl.jaas.config that Kafka 4.4
// honours for the token endpoint (ConfigDef.withClientSslSupport), and
// refuses, with why and what to use instead, those this package cannot
// honour.
func (c *Config) jaasTLS(jaas Property, opts map[string]string) error {
	bad := func(key, reason string) error {
		return &PropertyError{Key: jaas.Key, Line: jaas.Line, Reason: "option " + key + " " + reason + "; " + troubleshooting.See("token-endpoint-tls")}
	}
	get := func(k string) (string, bool) {
		v, ok := opts[k]
		delete(opts, k)
		return strings.TrimSpace(v), ok
	}
	t := TLSSettings{}
	loc, hasLoc := get("ssl.truststore.location")
	certs, hasCerts := get("ssl.truststore.certificates")
	typ, _ := get("ssl.truststore.type")
	_, hasTrustPass := get("ssl.truststore.password")
	if hasLoc || hasCerts {
		if typ == "" {
			typ = "JKS" // Kafka's default
		}
		if !strings.EqualFold(typ, "PEM") {
			return bad("ssl.truststore.type", fmt.Sprintf("is %s (Kafka's default when unset is JKS); only PEM truststores can be read here (Go's standard library reads neither JKS nor PKCS#12 stores, and this module adds no dependency for them to every user's build): export the CA certificates with keytool -exportcert -rfc -keystore <truststore> -alias <ca> (or openssl pkcs12 -in <truststore.p12> -nokeys) and set ssl.truststore.type='PEM', which Kafka 4.4 accepts too", quoteSetting(typ)))
		}
		if hasTrustPass {
			// Kafka's PEM store refuses a password too.
			return bad("ssl.truststore.password", "cannot be used with a PEM truststore (Kafka 4.4 refuses it too); remove it")
		}
		t.TrustStoreFile, t.TrustStorePEM = loc, certs
		t.TrustSetting = "sasl.jaas.config option ssl.truststore.location"
		if hasCerts {
			t.TrustSetting = "sasl.jaas.config option ssl.truststore.certificates"
		}
	} else if hasTrustPass || typ != "" {
		return bad("ssl.truststore.type", "is set without ssl.truststore.location or ssl.truststore.certificates; add the PEM CA file, or remove the truststore options")
	}
	kloc, hasKLoc := get("ssl.keystore.location")
	chain, hasChain := get("ssl.keystore.certificate.chain")
	key, hasKey := opts["ssl.keystore.key"]
	delete(opts, "ssl.keystore.key")
	ktyp, _ := get("ssl.keystore.type")
	_, hasKPass := get("ssl.keystore.password")
	keyPass, hasKeyPass := opts["ssl.key.password"]
	delete(opts, "ssl.key.password")
	if hasKLoc || hasChain || hasKey {
		if ktyp == "" {
			ktyp = "JKS"
		}
		if !strings.EqualFold(ktyp, "PEM") {
			return bad("ssl.keystore.type", fmt.Sprintf("is %s (Kafka's default when unset is JKS); only PEM keystores can be read here: convert with openssl pkcs12 -in <keystore.p12> -out client.pem (add -nodes for an unencrypted key, or keep it encrypted and set ssl.key.password) and set ssl.keystore.type='PEM', which Kafka 4.4 accepts too", quoteSetting(ktyp)))
		}
		if hasKPass {
			return bad("ssl.keystore.password", "cannot be used with a PEM keystore (Kafka 4.4 accepts only ssl.key.password there); remove it, and give the key's password as ssl.key.password")
		}
		if hasChain != hasKey {
			return bad("ssl.keystore.certificate.chain", "and ssl.keystore.key go together; give both, or ssl.keystore.location")
		}
		t.KeyStoreFile, t.CertificateChainPEM, t.KeyPEM = kloc, chain, oauthclient.Secret(key)
		t.KeySetting = "sasl.jaas.config option ssl.keystore.location"
		if hasChain {
			t.KeySetting = "sasl.jaas.config option ssl.keystore.certificate.chain"
		}
		if hasKeyPass {
			t.KeyPassphrase = oauthclient.Secret(keyPass)
		}
	} else if hasKPass || hasKeyPass || ktyp != "" {
		return bad("ssl.keystore.type", "is set without ssl.keystore.location or ssl.keystore.certificate.chain; add the PEM client certificate and key, or remove the keystore options")
	}
	if v, ok := get("ssl.enabled.protocols"); ok {
		for p := range strings.SplitSeq(v, ",") {
			m, err := tlsVersion(strings.TrimSpace(p))
			if err != nil {
				return bad("ssl.enabled.protocols", err.Error())
			}
			if t.MinVersion == 0 || m < t.MinVersion {
				t.MinVersion = m
			}
		}
	}
	if v, ok := get("ssl.protocol"); ok {
		if _, err := tlsVersion(v); err != nil && !strings.EqualFold(v, "TLS") {
			return bad("ssl.protocol", err.Error())
		}
	}
	if v, ok := get("ssl.endpoint.identification.algorithm"); ok && !strings.EqualFold(v, "https") {
		return bad("ssl.endpoint.identification.algorithm", "is "+quoteSetting(v)+", which turns off host name verification of the token endpoint; that is never done here: remove the option (the default is https) and give the endpoint a certificate for its name")
	}
	for _, k := range []string{"ssl.keymanager.algorithm", "ssl.trustmanager.algorithm", "ssl.provider", "ssl.cipher.suites", "ssl.secure.random.implementation", "ssl.engine.factory.class"} {
		if _, ok := opts[k]; ok {
			return bad(k, "is a Java security provider setting that cannot be honoured here (Go's crypto/tls chooses its own algorithms and cipher suites, TLS 1.2 or newer); remove it")
		}
	}
	if t != (TLSSettings{}) {
		c.Source.TLS = &t
	}
	return nil
}

// tlsVersion reads a Java TLS protocol name.
func tlsVersion(p string) (uint16, error) {
	switch p {
	case "TLSv1.2":
		return tls.VersionTLS12, nil
	case "TLSv1.3":
		return tls.VersionTLS13, nil
	case "TLSv1", "TLSv1.1", "SSLv3":
		return 0, fmt.Errorf("names %s, weaker than the TLS 1.2 this module requires; use TLSv1.2 or TLSv1.3", p)
	}
	return 0, fmt.Errorf("names %s, which is not a TLS version; use TLSv1.2 or TLSv1.3", quoteSetting(p))
}

// httpsCA takes librdkafka's https.ca.location and https.ca.pem (the CA
// of its OIDC token endpoint requests).
func (c *Config) httpsCA(p Property) error {
	v := strings.TrimSpace(p.Value)
	if c.Source.TLS == nil {
		c.Source.TLS = &TLSSettings{}
	}
	t := c.Source.TLS
	if t.TrustStoreFile != "" || t.TrustStorePEM != "" {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "the token endpoint's CA is given twice (https.ca.location, https.ca.pem, or a JAAS truststore); keep one"}
	}
	if p.Key == "https.ca.location" {
		if v == "probe" {
			return &PropertyError{Key: p.Key, Line: p.Line, Reason: `"probe" cannot be honoured: Go uses the system roots when no CA is set; remove the line, or name the PEM CA file`}
		}
		t.TrustStoreFile = v
	} else {
		t.TrustStorePEM = v
	}
	t.TrustSetting = p.Key
	c.httpsCAProp = p
	return nil
}

// checkTLSKind refuses librdkafka's https.ca.* for a kind whose requests
// it would not reach (the Azure kinds' go through azidentity's own
// endpoints and the file-based kind makes none).
func (c *Config) checkTLSKind() error {
	p := c.httpsCAProp
	if p.Key == "" || c.Source.Kind == SourceClientCredentials || c.Source.Kind == SourceJWTBearer {
		return nil
	}
	return &PropertyError{Key: p.Key, Line: p.Line, Reason: fmt.Sprintf("applies to the token endpoint of Kafka's OAuth handler only, and this file describes %s; remove it", c.Source.Kind)}
}

// httpClient returns the HTTP client for the file's token-endpoint TLS,
// or o.HTTPClient when the file sets none.
func (c *Config) httpClient(o *BuildOptions) (*http.Client, error) {
	t := c.Source.TLS
	if t.isZero() {
		return o.HTTPClient, nil
	}
	if o.HTTPClient != nil {
		return nil, errors.New("clientprops: the file sets the token endpoint's TLS (" + t.settings() + ") and BuildOptions.HTTPClient is set too, whose transport would not apply it; leave BuildOptions.HTTPClient nil, or configure that TLS in your client and remove the options from the file")
	}
	io := &idphttp.TLSOptions{
		RootCAFile: t.TrustStoreFile, RootCAPEM: []byte(t.TrustStorePEM), ReplaceRoots: t.TrustStoreFile != "" || t.TrustStorePEM != "",
		CertFile: t.KeyStoreFile, CertPEM: []byte(t.CertificateChainPEM), KeyPEM: []byte(t.KeyPEM),
		MinVersion: t.MinVersion, Setting: t.TrustSetting, CertSetting: t.KeySetting,
	}
	if len(io.KeyPEM) == 0 {
		io.KeyPEM = nil
	}
	if io.CertFile != "" || len(io.CertPEM) > 0 {
		pass := t.KeyPassphrase
		io.ParseKey = func(b []byte) (crypto.Signer, error) { return oauthclient.ParsePrivateKeyPEM(b, pass) }
		// The certificate goes to the token endpoint only.
		if u, err := url.Parse(c.Source.TokenURL); err == nil {
			io.CertHosts = []string{u.Hostname()}
		}
	}
	rt, err := idphttp.NewTLSTransport(io, idphttp.EnvironmentProxy)
	if err != nil {
		return nil, fmt.Errorf("clientprops: %w", err)
	}
	return &http.Client{Transport: rt, Timeout: idphttp.DefaultTimeout}, nil
}

// redacted returns t with its secrets replaced, for encoders.
func (t TLSSettings) redacted() tlsShown {
	return tlsShown{TrustStoreFile: t.TrustStoreFile, TrustStorePEM: t.TrustStorePEM != "", TrustSetting: t.TrustSetting,
		KeyStoreFile: t.KeyStoreFile, CertificateChainPEM: t.CertificateChainPEM != "", KeyPEM: t.KeyPEM.String(),
		KeyPassphrase: t.KeyPassphrase.String(), KeySetting: t.KeySetting, MinVersion: t.MinVersion}
}

// tlsShown is what encoders see of a TLSSettings.
type tlsShown struct {
	TrustStoreFile      string
	TrustStorePEM       bool
	TrustSetting        string
	KeyStoreFile        string
	CertificateChainPEM bool
	KeyPEM              string
	KeyPassphrase       string
	KeySetting          string
	MinVersion          uint16
}

// Format prints the settings with the key and its password redacted,
// whatever the verb (fmt prints fields of a value it cannot format with
// a verb without calling their methods, so the redaction is here).
func (t TLSSettings) Format(f fmt.State, _ rune) { _, _ = fmt.Fprintf(f, "%+v", t.redacted()) }

// MarshalJSON encodes the settings with the key and its password
// redacted.
func (t TLSSettings) MarshalJSON() ([]byte, error) { return json.Marshal(t.redacted()) }

// MarshalText encodes the settings with the key and its password
// redacted (YAML, XML and map keys use it).
func (t TLSSettings) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%+v", t.redacted()), nil }

// LogValue keeps the key and its password out of log/slog output.
func (t TLSSettings) LogValue() slog.Value { return slog.AnyValue(t.redacted()) }
