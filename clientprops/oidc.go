package clientprops

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// The retrievers of Kafka 4.x (sasl.oauthbearer.jwt.retriever.class).
const (
	kafkaOAuthPkg           = "org.apache.kafka.common.security.oauthbearer."
	defaultRetrieverClass   = kafkaOAuthPkg + "DefaultJwtRetriever"
	clientCredsRetriever    = kafkaOAuthPkg + "ClientCredentialsJwtRetriever"
	jwtBearerRetrieverClass = kafkaOAuthPkg + "JwtBearerJwtRetriever"
	fileRetrieverClass      = kafkaOAuthPkg + "FileJwtRetriever"
	assertionPrefix         = "sasl.oauthbearer.assertion."
)

// The kinds Kafka's own retrievers add.
const (
	// SourceTokenFile: a JWT read from a file
	// (sasl.oauthbearer.token.endpoint.url=file:..., FileJwtRetriever).
	SourceTokenFile SourceKind = "token-file"
	// SourceJWTBearer: the RFC 7523 jwt-bearer grant
	// (JwtBearerJwtRetriever, KIP-1139).
	SourceJWTBearer SourceKind = "jwt-bearer"
)

// kafkaRetriever handles the sources Kafka's OAuthBearerLoginCallbackHandler
// picks with sasl.oauthbearer.jwt.retriever.class and a file: token
// endpoint. It reports false when the file asks for client credentials,
// which the caller handles as before.
func (c *Config) kafkaRetriever(endpoint, retriever Property, assertion []Property, scope *Property) (bool, error) {
	perr := func(p Property, reason string) error { return oidcPropertyError(p.Key, p.Line, reason) }
	class := strings.TrimSpace(retriever.Value)
	isFile := strings.HasPrefix(strings.TrimSpace(endpoint.Value), "file:")
	switch class {
	case "", defaultRetrieverClass:
		if !isFile {
			return false, c.clientAssertion(assertion)
		}
	case clientCredsRetriever:
		if isFile {
			return false, perr(endpoint, "ClientCredentialsJwtRetriever needs an https token endpoint, not a file: URL")
		}
		return false, c.clientAssertion(assertion)
	case fileRetrieverClass:
		if !isFile {
			return false, perr(endpoint, "FileJwtRetriever reads the token from a file: URL (file:/path/to/token); this is not one")
		}
	case jwtBearerRetrieverClass:
		return true, c.jwtBearer(endpoint, assertion, scope)
	default:
		return false, perr(retriever, "retriever "+quoteSetting(retriever.Value)+" cannot be honoured; use one of "+defaultRetrieverClass+", "+clientCredsRetriever+", "+jwtBearerRetrieverClass+", "+fileRetrieverClass)
	}
	// A file: token endpoint (KIP-768).
	if err := rejectAssertion(assertion, "a file: token endpoint reads the token as it is; remove the line"); err != nil {
		return false, err
	}
	u, err := url.Parse(strings.TrimSpace(endpoint.Value))
	if err != nil || u.Path == "" || u.RawQuery != "" || (u.Host != "" && u.Host != "localhost") {
		return false, perr(endpoint, "a file: URL must name a local file as file:/path/to/token (no host, no query)")
	}
	c.Source.Kind = SourceTokenFile
	c.Source.TokenFile = u.Path
	return true, nil
}

// rejectAssertion refuses the first assertion setting in the file, if any.
func rejectAssertion(assertion []Property, reason string) error {
	if len(assertion) == 0 {
		return nil
	}
	return oidcPropertyError(assertion[0].Key, assertion[0].Line, reason)
}

// jwtBearer reads the assertion settings with Kafka 4.4's names, defaults
// and ranges (SaslConfigs).
func (c *Config) jwtBearer(endpoint Property, assertion []Property, scope *Property) error {
	if endpoint.Key == "" {
		return oidcPropertyError("sasl.oauthbearer.jwt.retriever.class", 0, "JwtBearerJwtRetriever needs sasl.oauthbearer.token.endpoint.url, the identity provider's token endpoint")
	}
	s := &c.Source
	s.Kind, s.TokenURL, s.Scope = SourceJWTBearer, endpoint.Value, scope.Value
	c.settingOf = map[string]string{"JWTBearerOptions.TokenURL": settingName(endpoint)}
	c.recordSettings(assertion, "JWTBearerOptions.")
	*scope = Property{} // used here, not a client-credentials leftover
	file, a, err := parseAssertion(assertion)
	if err != nil {
		return err
	}
	if file == "" && a.PrivateKeyFile == "" {
		return oidcPropertyError("sasl.oauthbearer.jwt.retriever.class", 0,
			"JwtBearerJwtRetriever needs sasl.oauthbearer.assertion.private.key.file (to build assertions) or sasl.oauthbearer.assertion.file (a pre-generated one)")
	}
	c.readFiles(file, assertion)
	// With a file, the signing settings do not apply.
	if s.AssertionFile = file; file == "" {
		s.Assertion = a
	}
	return nil
}

// parseAssertion reads the sasl.oauthbearer.assertion.* settings with
// Kafka 4.4's names, defaults and ranges (SaslConfigs), for either grant:
// the assertion file, and the signing settings as oauthclient takes them.
func parseAssertion(assertion []Property) (file string, a *oauthclient.AssertionOptions, err error) {
	// Kafka's defaults where they differ from oauthclient's: RS256 (not
	// the key's own algorithm) and no jti. exp 300 s and nbf 60 s are
	// oauthclient's defaults too, applied where it applies them: the
	// zero Lifetime and NotBefore stand for them.
	a = &oauthclient.AssertionOptions{Algorithm: "RS256", OmitJTI: true}
	for _, p := range assertion {
		v := strings.TrimSpace(p.Value)
		bad := func(reason string) error { return oidcPropertyError(p.Key, p.Line, reason) }
		intIn := func(lo, hi int) (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return 0, bad(quoteSetting(p.Value) + " is not a whole number of seconds from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ", the range Kafka accepts")
			}
			return n, nil
		}
		var err error
		switch strings.TrimPrefix(p.Key, assertionPrefix) {
		case "algorithm":
			a.Algorithm = strings.ToUpper(v)
			if a.Algorithm != "RS256" && a.Algorithm != "ES256" {
				return "", nil, bad(quoteSetting(p.Value) + " is not supported; Kafka accepts RS256 (default) or ES256")
			}
		case "claim.aud":
			a.Audience = v
		case "claim.iss":
			a.Issuer = v
		case "claim.sub":
			a.Subject = v
		case "claim.exp.seconds":
			var n int
			if n, err = intIn(0, 86400); err == nil && n == 0 {
				err = bad("0 cannot be honoured: the assertion would expire as it is made; use at least 1 (default 300)")
			}
			a.Lifetime = time.Duration(n) * time.Second
		case "claim.nbf.seconds":
			var n int
			n, err = intIn(0, 3600)
			a.NotBefore = time.Duration(n) * time.Second
			if n == 0 {
				a.NotBefore = -1 // nbf = iat: AssertionOptions' "none" (its 0 is the default 60 s)
			}
		case "claim.jti.include":
			var include bool
			include, err = strconv.ParseBool(v)
			if err != nil {
				err = bad(quoteSetting(p.Value) + " is not a boolean; use true or false")
			}
			a.OmitJTI = !include
		case "file":
			file = v
		case "private.key.file":
			a.PrivateKeyFile = v
		case "private.key.passphrase":
			a.PrivateKeyPassphrase = oauthclient.Secret(p.Value)
		case "template.file":
			a.TemplateFile = v
		default:
			return "", nil, bad("Kafka 4.4 has no such assertion setting; use algorithm, claim.aud, claim.exp.seconds, claim.iss, claim.jti.include, claim.nbf.seconds, claim.sub, file, private.key.file, private.key.passphrase or template.file")
		}
		if err != nil {
			return "", nil, err
		}
	}
	return file, a, nil
}

// newKafkaRetrieverSource builds the token-file and jwt-bearer kinds.
func (c *Config) newKafkaRetrieverSource(o *BuildOptions) (oauthbearer.TokenSource, error) {
	if c.Source.Kind == SourceTokenFile {
		return tokenfile.New(&tokenfile.Options{Path: c.Source.TokenFile, Setting: settingName(c.TokenURL), Cache: c.Cache})
	}
	src, err := oauthclient.NewJWTBearer(&oauthclient.JWTBearerOptions{
		TokenURL: c.Source.TokenURL, Scope: c.Source.Scope, HTTPClient: o.HTTPClient, Cache: c.cacheOptions(o),
		AssertionFile: c.Source.AssertionFile, Assertion: c.Source.Assertion,
	})
	if err != nil {
		return nil, c.nameSettings(err)
	}
	return settingNamed{Cache: src, c: c}, nil
}

// settingNamed is an oauthclient source built from the file, whose errors
// at a fetch (a key, assertion or template file read on every refresh)
// name the client.properties settings too.
type settingNamed struct {
	*oauthbearer.Cache
	c *Config
}

// Token returns the cache's token, or its error with the settings named.
func (s settingNamed) Token(ctx context.Context) (oauthbearer.Token, error) {
	tok, err := s.Cache.Token(ctx)
	if err != nil {
		return tok, s.c.nameSettings(err)
	}
	return tok, nil
}

// nameSettings rewrites an error of an oauthclient source built from the
// file so that it names the settings (key and line) that the file used,
// instead of the Go option fields: each <Options>.<Field> that the
// [*oauthbearer.OptionError] lists becomes the setting recorded for it in
// settingOf.
func (c *Config) nameSettings(err error) error {
	oe, ok := errors.AsType[*oauthbearer.OptionError](err)
	if !ok {
		return err
	}
	_, typ, _ := strings.Cut(oe.Options, ".") // as the message names it
	// Longest first: JWTBearerOptions.Assertion.PrivateKey is a prefix of
	// JWTBearerOptions.Assertion.PrivateKeyFile.
	fields := slices.SortedFunc(slices.Values(oe.Fields), func(a, b string) int { return len(b) - len(a) })
	msg := err.Error()
	for _, f := range fields {
		name := typ + "." + f
		if setting, ok := c.settingOf[name]; ok {
			msg = strings.ReplaceAll(msg, name, setting)
		}
	}
	return &namedError{msg: msg, err: err}
}

// namedError is an error whose message names the file's settings; it
// wraps the source's error, for errors.Is and errors.As.
type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// recordSettings records in settingOf the line of each assertion setting,
// under the oauthclient option field it becomes in opts
// ("JWTBearerOptions." or "ClientCredentialsOptions."): the signing
// settings under opts + "Assertion." and the assertion file under
// opts + "AssertionFile".
func (c *Config) recordSettings(assertion []Property, opts string) {
	if c.settingOf == nil {
		c.settingOf = map[string]string{}
	}
	for field, key := range map[string]string{
		"PrivateKeyFile": "private.key.file", "PrivateKeyPassphrase": "private.key.passphrase",
		"TemplateFile": "template.file", "Algorithm": "algorithm", "Issuer": "claim.iss", "Subject": "claim.sub",
		"Audience": "claim.aud", "Lifetime": "claim.exp.seconds",
	} {
		p, _ := findProperty(assertion, assertionPrefix+key)
		c.settingOf[opts+"Assertion."+field] = settingName(p)
	}
	p, _ := findProperty(assertion, assertionPrefix+"file")
	c.settingOf[opts+"AssertionFile"] = settingName(p)
}

// settingName names a setting in an error as the file has it: its key and
// line, or only the key when the file lacks it (a setting to add).
func settingName(p Property) string {
	if p.Line == 0 {
		return p.Key
	}
	return fmt.Sprintf("%s (client.properties line %d)", p.Key, p.Line)
}

// oidcPropertyError is a [PropertyError] of the token-file and jwt-bearer
// settings, linked to their section of the troubleshooting guide.
func oidcPropertyError(key string, line int, reason string) error {
	return &PropertyError{Key: key, Line: line, Reason: reason + "; " + troubleshooting.See("oidc-client-properties")}
}
