package battery

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/idpclient"
	"github.com/streamidentity/kafka-workload-identity/internal/testpki"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// The token endpoint's TLS and proxy options (idpclient, the ssl.* and
// https.ca.* keys of client.properties) and KIP-1258's client assertions:
// every file they name meets the hostile files, and the key passphrases
// and proxy credentials they hold are secrets no cell may say.

const (
	keyPassphrase = "battery-key-passphrase~0123456789abcdef"
	proxyUser     = "battery-proxy-user"
	proxyPassword = "battery-proxy-password~0123456789abcdef"
)

// clientPKI is a client certificate and its key, as PEM files.
func clientPKI(t *testing.T, e *env) (certFile, keyFile string) {
	cert, key := testpki.NewCA(t).IssueClient(t, "battery")
	for _, l := range strings.Split(string(key), "\n") {
		if !strings.HasPrefix(l, "-----") {
			e.c.Secret("client certificate key (PEM line)", l)
		}
	}
	return writeFile(t, "client.crt", string(cert)), writeFile(t, "client.key", string(key))
}

// idpClient is idpclient.New(o) with a key passphrase and a proxy with
// credentials (at proxyAddr, or a closed port): secrets that must never
// be said, whatever fails.
func idpClient(e *env, o idpclient.Options, proxyAddr string) (*http.Client, error) {
	e.c.Secret("key passphrase", keyPassphrase)
	e.c.Secret("proxy password", proxyPassword)
	e.c.Secret("proxy Basic credentials", base64.StdEncoding.EncodeToString([]byte(proxyUser+":"+proxyPassword)))
	if proxyAddr == "" {
		proxyAddr = "127.0.0.1:1"
	}
	o.KeyPassphrase = keyPassphrase
	o.Proxy = "http://" + proxyUser + ":" + proxyPassword + "@" + proxyAddr
	e.c.Value(o)
	return idpclient.New(&o)
}

// ccIDP is a client-credentials source whose client idpclient builds
// from o.
func ccIDP(e *env, o idpclient.Options, tokenURL, proxyAddr string) (source, error) {
	hc, err := idpClient(e, o, proxyAddr)
	if err != nil {
		return nil, err
	}
	e.c.Secret("client secret", clientSecret)
	return oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: tokenURL, ClientID: "app-1",
		ClientSecret: clientSecret, HTTPClient: hc, Cache: e.co})
}

// ccFiles are the file settings of oauthclient.NewClientCredentials.
func ccFiles() []setting {
	cc := func(e *env, o oauthclient.ClientCredentialsOptions) (source, error) {
		o.TokenURL, o.ClientID, o.HTTPClient, o.Cache = e.h.URL()+"/token", "app-1", e.h.Client(), e.co
		return oauthclient.NewClientCredentials(&o)
	}
	const noToken = "https://127.0.0.1:1/token"
	return []setting{
		{name: "ClientCredentialsOptions.AssertionFile", build: func(t *testing.T, e *env, p string) (source, error) {
			return cc(e, oauthclient.ClientCredentialsOptions{AssertionFile: p})
		}},
		{name: "ClientCredentialsOptions.Assertion.PrivateKeyFile", build: func(t *testing.T, e *env, p string) (source, error) {
			e.c.Secret("key passphrase", keyPassphrase)
			return cc(e, oauthclient.ClientCredentialsOptions{Assertion: &oauthclient.AssertionOptions{PrivateKeyFile: p,
				PrivateKeyPassphrase: keyPassphrase, Issuer: "app-1", Subject: "app-1"}})
		}},
		{name: "ClientCredentialsOptions.Assertion.TemplateFile", build: func(t *testing.T, e *env, p string) (source, error) {
			keys(t, e)
			return cc(e, oauthclient.ClientCredentialsOptions{Assertion: &oauthclient.AssertionOptions{PrivateKey: ecKey,
				Issuer: "app-1", Subject: "app-1", TemplateFile: p}})
		}},
		{name: "HTTPClient from idpclient.Options.RootCAFile", build: func(t *testing.T, e *env, p string) (source, error) {
			return naming(t, "idpclient.Options.RootCAFile")(ccIDP(e, idpclient.Options{RootCAFile: p}, noToken, ""))
		}},
		{name: "HTTPClient from idpclient.Options.CertFile", build: func(t *testing.T, e *env, p string) (source, error) {
			_, key := clientPKI(t, e)
			return naming(t, "idpclient.Options.CertFile")(ccIDP(e, idpclient.Options{CertFile: p, KeyFile: key}, noToken, ""))
		}},
		{name: "HTTPClient from idpclient.Options.KeyFile", build: func(t *testing.T, e *env, p string) (source, error) {
			cert, _ := clientPKI(t, e)
			return naming(t, "idpclient.Options.KeyFile")(ccIDP(e, idpclient.Options{CertFile: cert, KeyFile: p}, noToken, ""))
		}},
	}
}

// naming asserts that a refusal names setting: else the cell failed
// before the file was read, and proves nothing.
func naming(t *testing.T, setting string) func(source, error) (source, error) {
	return func(src source, err error) (source, error) {
		assert.ErrorContains(t, err, setting+" ", "the refusal names the setting (else the file was never read)")
		return src, err
	}
}

// ccProxyEcho sends the token request through a proxy with credentials
// (idpclient.Options.Proxy): the hostile host, which answers the CONNECT
// with its echo.
var ccProxyEcho = agentCase{name: "a proxy with credentials answering CONNECT with an echo", reaches: true,
	build: func(t *testing.T, e *env) (source, error) {
		return ccIDP(e, idpclient.Options{}, e.h.URL()+"/token", strings.TrimPrefix(e.h.plain.URL, "http://"))
	}}

// propsTLS adds JAAS options to client.properties text.
func propsTLS(text, jaasOpts string) string {
	return strings.Replace(text, " extension_logicalCluster=", " "+jaasOpts+" extension_logicalCluster=", 1)
}

// propsFiles are the token-endpoint TLS file settings of
// client.properties. The file's TLS needs the source's own client: no
// BuildOptions.HTTPClient.
func propsFiles() []setting {
	build := func(t *testing.T, e *env, text, setting string) (source, error) {
		e.c.Secret("client.properties clientSecret", clientSecret)
		ne := *e
		ne.h = nil
		return naming(t, setting)(fromProps(&ne, text, "https://127.0.0.1:1/token", nil, (*clientprops.Config).NewSource))
	}
	props := clientCredentialsProps("https://127.0.0.1:1/token")
	return []setting{
		{name: "https.ca.location", build: func(t *testing.T, e *env, p string) (source, error) {
			return build(t, e, props+"https.ca.location="+p+"\n", "https.ca.location")
		}},
		{name: "sasl.jaas.config option ssl.truststore.location", build: func(t *testing.T, e *env, p string) (source, error) {
			return build(t, e, propsTLS(props, `ssl.truststore.type="PEM" ssl.truststore.location="`+p+`"`), "ssl.truststore.location")
		}},
		{name: "sasl.jaas.config option ssl.keystore.location", build: func(t *testing.T, e *env, p string) (source, error) {
			e.c.Secret("ssl.key.password", keyPassphrase)
			return build(t, e, propsTLS(props, `ssl.keystore.type="PEM" ssl.keystore.location="`+p+`" ssl.key.password="`+keyPassphrase+`"`), "ssl.keystore.location")
		}},
	}
}
