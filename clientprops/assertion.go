package clientprops

import (
	"fmt"
	"strings"

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
	file, a, err := parseAssertion(assertion)
	if err != nil {
		return err
	}
	iss, hasIss := findProperty(assertion, assertionPrefix+"claim.iss")
	switch {
	case file != "":
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
	c.readFiles(file, assertion)
	c.recordSettings(assertion, "ClientCredentialsOptions.")
	c.Source.AssertionFile = file
	if hasIss {
		// Beside a file too, so that the source warns as Kafka does.
		c.Source.Assertion = a
	}
	return nil
}

// readFiles records the files Kafka reads for these assertion settings
// (those it checks against org.apache.kafka.sasl.oauthbearer.allowed.files):
// the assertion file alone when set, else the private key file and the
// template file.
func (c *Config) readFiles(file string, assertion []Property) {
	keys := []string{"private.key.file", "template.file"}
	if file != "" {
		keys = []string{"file"}
	}
	for _, k := range keys {
		if p, ok := findProperty(assertion, assertionPrefix+k); ok && strings.TrimSpace(p.Value) != "" {
			c.files = append(c.files, p)
		}
	}
}

// findProperty returns the last property with key (the last duplicate
// wins, as in Parse) and true, or, with false, one holding the key alone
// (line 0: a setting to add) when props lack it.
func findProperty(props []Property, key string) (Property, bool) {
	p, ok := Property{Key: key}, false
	for _, a := range props {
		if a.Key == key {
			p, ok = a, true
		}
	}
	return p, ok
}

// clientCredentialsOptions translates the client-credentials kind.
func (c *Config) clientCredentialsOptions(o *BuildOptions) *oauthclient.ClientCredentialsOptions {
	cco := &oauthclient.ClientCredentialsOptions{
		TokenURL: c.Source.TokenURL, ClientID: c.Source.ClientID, ClientSecret: c.Source.ClientSecret,
		Scope: c.Source.Scope, RawBasicAuth: c.Source.RawBasicAuth, HTTPClient: o.HTTPClient, Cache: c.cacheOptions(o),
		AssertionFile: c.Source.AssertionFile, Assertion: c.Source.Assertion,
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
