package clientprops

import (
	"fmt"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// clientAssertion reads the sasl.oauthbearer.assertion.* settings of the
// client-credentials grant (KIP-1258, Kafka 4.3+), choosing as Kafka
// 4.4's ClientCredentialsRequestFormatterFactory does: the assertion file
// if set (first preference), else a locally signed assertion when
// claim.iss is present (second), else the client secret, in which case
// Kafka ignores the other assertion settings and so does this package
// (listing them in Config.Ignored).
func (c *Config) clientAssertion(assertion []Property) error {
	if len(assertion) == 0 {
		return nil
	}
	a, err := parseAssertion(assertion)
	if err != nil {
		return err
	}
	iss, hasIss := findProperty(assertion, assertionPrefix+"claim.iss")
	switch {
	case a.File != "":
		if hasIss {
			c.Ignored = append(c.Ignored, fmt.Sprintf("%s (line %d) and the other signing settings: ignored because %sfile is set, which Kafka 4.4 prefers (it logs a warning, and so does the built source)",
				iss.Key, iss.Line, assertionPrefix))
		}
	case hasIss:
		if a.Issuer == "" {
			return oidcPropertyError(iss.Key, iss.Line, "is empty; Kafka 4.4 signs a client assertion when this setting is present and requires a value: set the issuer (usually the client ID), or remove the line to authenticate with the client secret")
		}
		if a.PrivateKeyFile == "" {
			return oidcPropertyError(iss.Key, iss.Line, "a locally signed client assertion (KIP-1258) needs "+assertionPrefix+"private.key.file, the PEM private key to sign it with; add it, or remove the assertion settings to authenticate with the client secret")
		}
	default:
		for _, p := range assertion {
			c.Ignored = append(c.Ignored, fmt.Sprintf("%s (line %d): ignored by Kafka 4.4's client credentials grant without %sfile or %sclaim.iss (the client secret is used)",
				p.Key, p.Line, assertionPrefix, assertionPrefix))
		}
		return nil
	}
	c.readFiles(a, assertion)
	c.recordSettings(assertion, "ClientCredentialsOptions.")
	c.Source.Assertion = a
	return nil
}

// readFiles records the files Kafka reads for these assertion settings
// (those it checks against org.apache.kafka.sasl.oauthbearer.allowed.files):
// the assertion file alone when set, else the private key file and the
// template file.
func (c *Config) readFiles(a AssertionSettings, assertion []Property) {
	keys := []string{"private.key.file", "template.file"}
	if a.File != "" {
		keys = []string{"file"}
	}
	for _, k := range keys {
		if p, ok := findProperty(assertion, assertionPrefix+k); ok && strings.TrimSpace(p.Value) != "" {
			c.files = append(c.files, p)
		}
	}
}

// findProperty returns the property with key.
func findProperty(props []Property, key string) (Property, bool) {
	for _, p := range props {
		if p.Key == key {
			return p, true
		}
	}
	return Property{}, false
}

// signing returns the settings of a locally signed assertion as
// oauthclient options.
func (a AssertionSettings) signing() *oauthclient.AssertionOptions {
	o := &oauthclient.AssertionOptions{
		PrivateKeyFile: a.PrivateKeyFile, PrivateKeyPassphrase: a.PrivateKeyPassphrase, Algorithm: a.Algorithm,
		Issuer: a.Issuer, Subject: a.Subject, Audience: a.Audience, TemplateFile: a.TemplateFile,
		Lifetime: time.Duration(a.ExpSeconds) * time.Second, NotBefore: time.Duration(a.NbfSeconds) * time.Second,
		OmitJTI: !a.IncludeJTI,
	}
	if a.NbfSeconds == 0 {
		o.NotBefore = -1 // 0 means the default in AssertionOptions
	}
	return o
}

// clientCredentialsOptions translates the client-credentials kind.
func (c *Config) clientCredentialsOptions(o *BuildOptions) *oauthclient.ClientCredentialsOptions {
	cco := &oauthclient.ClientCredentialsOptions{
		TokenURL: c.Source.TokenURL, ClientID: c.Source.ClientID, ClientSecret: c.Source.ClientSecret,
		Scope: c.Source.Scope, RawBasicAuth: !c.Source.URLEncodeBasicAuth, HTTPClient: o.HTTPClient, Cache: c.cacheOptions(o),
		AssertionFile: c.Source.Assertion.File,
	}
	if c.Source.Assertion.Issuer != "" {
		// Passed beside a file too, so that the source warns as Kafka does.
		cco.Assertion = c.Source.Assertion.signing()
	}
	return cco
}

// cacheOptions returns the file's cache tuning with BuildOptions.Logger.
func (c *Config) cacheOptions(o *BuildOptions) *oauthbearer.CacheOptions {
	if o.Logger == nil {
		return c.Cache
	}
	var co oauthbearer.CacheOptions
	if c.Cache != nil {
		co = *c.Cache
	}
	if co.Logger == nil {
		co.Logger = o.Logger
	}
	return &co
}
