package clientprops

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/confluentid"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Login callback handler classes Parse understands.
const (
	// azureHandlerClass is the handler of confluent-oauth-extensions
	// (Azure managed identity through IMDS, or AKS workload identity).
	azureHandlerClass = "io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler"
	// kafkaHandlerClass is Kafka's own client-credentials handler.
	kafkaHandlerClass = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
	// kafkaSecuredHandlerClass is the pre-3.7 name of Kafka's handler.
	kafkaSecuredHandlerClass = "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler"
	// azureRegistryProviderClass is confluent-oauth-extensions' Schema
	// Registry bearer provider (bearer.auth.custom.provider.class).
	azureRegistryProviderClass = "io.confluent.oauth.azure.managedidentity.RegistryBearerAuthCredentialProvider"

	oauthLoginModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	imdsHost         = "169.254.169.254"
	imdsPath         = "/metadata/identity/oauth2/token"
)

// SourceKind says which identity a [SourceSpec] describes.
type SourceKind string

// The kinds of token source a client.properties file can describe.
const (
	// SourceAzureManagedIdentity: an Azure managed identity through IMDS
	// (the IMDS URL form of confluent-oauth-extensions).
	SourceAzureManagedIdentity SourceKind = "azure-managed-identity"
	// SourceAzureWorkloadIdentity: AKS workload identity, a federated
	// Kubernetes token exchanged at Entra ID (useWorkloadIdentity='true').
	SourceAzureWorkloadIdentity SourceKind = "azure-workload-identity"
	// SourceClientCredentials: Kafka's own OAuth client credentials grant.
	SourceClientCredentials SourceKind = "client-credentials"
)

// SourceSpec describes the token source a client.properties file asks for,
// without building it. Only the fields of its Kind are set.
type SourceSpec struct {
	// Kind is the kind of token source; it decides which of the other
	// fields are set.
	Kind SourceKind

	// Resource is the IMDS "resource" (the App Registration's application
	// ID, the token audience). Managed identity only; the Azure scope is
	// Resource + "/.default".
	Resource string
	// ClientID is the user-assigned managed identity's client ID (IMDS
	// client_id), or the OAuth client ID for client credentials. Empty
	// for a system-assigned identity, and for workload identity, where
	// AZURE_CLIENT_ID applies as in the Java handler.
	ClientID string
	// ResourceID is the managed identity's Azure resource ID (IMDS
	// msi_res_id or mi_res_id).
	ResourceID string
	// ObjectID is the managed identity's object ID (IMDS object_id).
	ObjectID string
	// IMDSEndpoint is set when the URL's host is not the standard
	// 169.254.169.254 (for example a local emulator); scheme://host only.
	IMDSEndpoint string

	// TenantID and AuthorityHost come from the Entra token endpoint URL
	// (https://<authority host>/<tenant>/oauth2/v2.0/token). Workload
	// identity only; the federated token file comes from
	// AZURE_FEDERATED_TOKEN_FILE as in the Java handler.
	TenantID      string
	AuthorityHost string

	// Scope is the scope to request (workload identity: such as
	// "<app-id>/.default"; client credentials: Kafka's scope option).
	Scope string

	// TokenURL is the token endpoint for client credentials.
	TokenURL string
	// ClientSecret is the client-credentials secret. It never prints.
	ClientSecret oauthclient.Secret
	// RawBasicAuth is oauthclient.ClientCredentialsOptions.RawBasicAuth
	// (one name for the concept): the Basic credentials are sent without
	// form-urlencoding. Parse sets it to the inverse of
	// sasl.oauthbearer.header.urlencode, so a file keeps Kafka's default
	// for that key (raw, true here) while code options keep oauthclient's
	// (false: encoded, as RFC 6749 section 2.3.1 requires). The zero
	// value of a SourceSpec built by hand is oauthclient's default.
	RawBasicAuth bool

	// TokenFile is the path of a file: token endpoint (token-file kind).
	TokenFile string
	// AssertionFile is sasl.oauthbearer.assertion.file, a pre-generated
	// assertion: the jwt-bearer kind's grant, or the client-credentials
	// kind's client assertion (KIP-1258).
	AssertionFile string
	// Assertion holds the other sasl.oauthbearer.assertion.* settings as
	// oauthclient takes them, with Kafka 4.4's defaults where they differ
	// from oauthclient's (Algorithm RS256, OmitJTI; Kafka's exp 300 s and
	// nbf 60 s are oauthclient's defaults, so an unset Lifetime and
	// NotBefore stay 0; claim.nbf.seconds=0 is a negative NotBefore,
	// oauthclient's "no skew"): for the jwt-bearer kind without AssertionFile,
	// and for the client-credentials kind with claim.iss (a locally
	// signed client assertion). Otherwise nil.
	Assertion *oauthclient.AssertionOptions
	// TLS holds the token endpoint's TLS settings (client credentials and
	// jwt-bearer kinds), or nil for the system defaults.
	TLS *TLSSettings
}

// SchemaRegistrySettings are the Schema Registry settings of the file.
type SchemaRegistrySettings struct {
	// URL is schema.registry.url.
	URL string
	// LogicalCluster is bearer.auth.logical.cluster (lsrc-...), sent as
	// target-sr-cluster.
	LogicalCluster string
	// IdentityPoolID is bearer.auth.identity.pool.id, sent as
	// Confluent-Identity-Pool-Id. Default: the Kafka identityPoolId
	// extension, as the Java provider does.
	IdentityPoolID string
}

// Config is what [Parse] found in a Java
// client.properties file.
type Config struct {
	// BootstrapServers is bootstrap.servers, split at commas.
	BootstrapServers []string
	// SecurityProtocol is SASL_SSL or SASL_PLAINTEXT.
	SecurityProtocol string
	// SASLMechanism is always OAUTHBEARER.
	SASLMechanism string
	// Source describes the token source.
	Source SourceSpec
	// Extensions are the Confluent extensions (extension_logicalCluster,
	// extension_identityPoolId).
	Extensions confluent.Extensions
	// OtherExtensions are any other extension_* options.
	OtherExtensions map[string]string
	// Cache holds the sasl.login.* tuning the file sets, translated, or
	// nil when it sets none. The parser checked it with
	// [oauthbearer.CacheOptions.Validate], so what parses is what the
	// cache accepts.
	Cache *oauthbearer.CacheOptions
	// SchemaRegistry holds schema.registry.url and bearer.auth.* settings.
	SchemaRegistry SchemaRegistrySettings
	// TokenURL is the sasl.oauthbearer.token.endpoint.url property as
	// the file wrote it, with its line (zero if the file has none):
	// whatever it names (an OAuth token URL, which Source.TokenURL then
	// holds, the IMDS or Entra URL, or a file: URL).
	// [Config.NewSource] checks it against the allow-list (see
	// [BuildOptions.AllowedURLs]); a Config built by hand without it is
	// not checked.
	TokenURL Property
	// Ignored lists options the file sets that the Java handler itself
	// ignores (clientId and clientSecret of the Azure handler), with why.
	Ignored []string
	// Other holds properties this package does not interpret because they
	// are not about authentication (ssl.*, client.id, acks, ...), for the
	// caller to apply or reject.
	Other []Property

	// files are the properties naming files that Kafka reads only when
	// org.apache.kafka.sasl.oauthbearer.allowed.files lists them.
	files []Property
	// httpsCAProp is librdkafka's https.ca.location or https.ca.pem, if
	// the file sets one.
	httpsCAProp Property
	// settingOf names, for the jwt-bearer kind and the client-credentials
	// kind's assertion, the line that set each oauthclient option field
	// ("JWTBearerOptions.Assertion.Issuer",
	// "ClientCredentialsOptions.Assertion.Issuer"),
	// so that the source's errors name the file's key and line
	// ([Config.nameSettings]).
	settingOf map[string]string
}

// PropertyError reports a property that cannot be honoured. It names the
// key and the line, and quotes the value only when it is not secret.
type PropertyError struct {
	// Key is the property's key as the file has it (or as it should
	// have it, for a missing setting).
	Key string
	// Line is the 1-based line on which the property starts, or 0 when
	// the file does not have the key.
	Line int
	// Reason says what is wrong and, where there is one, the fix.
	Reason string
	// Err, when set, is the underlying error, such as the
	// [*oauthbearer.OptionError] of a numeric setting the cache refuses
	// or [ErrURLNotAllowed]; errors.Is and errors.As reach it.
	Err error
}

// Error reads "clientprops: client.properties line N: key: reason". The
// key is shown as the file wrote it, unless it holds characters that
// could forge a log line or is very long: then it is quoted through the
// one quoting function (escaped and clipped).
func (e *PropertyError) Error() string {
	return fmt.Sprintf("clientprops: client.properties line %d: %s: %s", e.Line, shownKey(e.Key), e.Reason)
}

// shownKey returns a key as errors show it: as written when it is short
// printable ASCII without spaces (every real key), else quoted.
func shownKey(k string) string {
	if len(k) <= 128 && !strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return k
	}
	return srvtext.Quote(k, 0)
}

// Unwrap returns Err.
func (e *PropertyError) Unwrap() error { return e.Err }

// Parse reads a Java client.properties file, with the syntax of
// java.util.Properties.load (ISO-8859-1 bytes, backslash continuations
// and escapes, # and ! comments; the last duplicate wins), and describes the Kafka connection
// and token source it configures. It accepts the forms used with
// Confluent Cloud today:
//
//   - confluent-oauth-extensions with an IMDS URL in
//     sasl.oauthbearer.token.endpoint.url (resource, client_id,
//     msi_res_id or object_id query parameters): Azure managed identity;
//   - confluent-oauth-extensions with useWorkloadIdentity='true' and
//     scope, the token endpoint being Entra ID's: AKS workload identity;
//   - Kafka's OAuthBearerLoginCallbackHandler with clientId, clientSecret
//     and scope (or the Kafka 4 sasl.oauthbearer.client.credentials.*
//     settings): OAuth client credentials;
//
// with extension_* options. Every authentication setting it cannot
// honour is a [*PropertyError] naming the key and line; secrets never
// appear in errors. Settings unrelated to authentication are returned in
// Config.Other. A key one or two typing slips from a key Kafka or the
// handlers define (boostrap.servers, sasl.jaas.confg, an
// extension_identityPoolID) is an error suggesting the right spelling,
// and so is a file without bootstrap.servers (Kafka's command-line tools
// take it as --bootstrap-server; a client built from the file needs it).
// The file may be at most 1 MiB, which also bounds its sasl.jaas.config
// (Kafka sets no limit of its own: java.util.Properties.load reads a file
// of any size). Parsing, the JAAS value and the did-you-mean included,
// takes time and memory linear in the file's size, so a hostile file
// cannot make it spin or allocate without bound. Errors quote what the
// file wrote through one quoting function: escaped, clipped, with URLs'
// user info, query and fragment and every secret of the file removed.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("clientprops: reading client.properties: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("clientprops: client.properties is larger than %d bytes; check that it is a properties file", maxFileSize)
	}
	return parse(data)
}

// ParseFile is [Parse] of the file at path: a regular file of at most
// 1 MiB.
func ParseFile(path string) (*Config, error) {
	data, err := boundedfile.Read(context.Background(), path, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("clientprops: reading %s: %w", path, err)
	}
	return parse(data)
}

// maxFileSize bounds a properties file: real ones are a few kilobytes.
const maxFileSize = 1 << 20

func parse(data []byte) (*Config, error) {
	props, err := parseProperties(data)
	if err != nil {
		return nil, err
	}
	last := make(map[string]Property, len(props))
	for _, p := range props {
		last[p.Key] = p
	}
	c := &Config{OtherExtensions: map[string]string{}}
	perr := func(p Property, format string, a ...any) error {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: fmt.Sprintf(format, a...)}
	}
	// Every value an error quotes goes through srvtext.Quote, with every
	// secret of the file removed (in case one was pasted elsewhere too).
	var secrets []string
	for _, p := range props {
		if isSecret(p.Key, p.Value) {
			secrets = append(secrets, p.Value)
		}
	}
	q := func(v string) string { return srvtext.Quote(v, 0, secrets...) }
	var handler, endpoint, jaas Property
	var ccID, ccSecret, ccScope Property
	var retriever Property
	urlencode := false       // sasl.oauthbearer.header.urlencode, Kafka's default
	var assertion []Property // in file order
	// The settings read once the whole file is known.
	held := map[string]*Property{
		"sasl.login.callback.handler.class":                 &handler,
		"sasl.oauthbearer.token.endpoint.url":               &endpoint,
		"sasl.jaas.config":                                  &jaas,
		"sasl.oauthbearer.client.credentials.client.id":     &ccID,
		"sasl.oauthbearer.client.credentials.client.secret": &ccSecret,
		"sasl.oauthbearer.scope":                            &ccScope,
		"sasl.oauthbearer.jwt.retriever.class":              &retriever,
	}
	// The last of each key (Java's rule), in file order, so that the
	// first problem in the file is the one reported.
	for _, p := range props {
		if last[p.Key].Line != p.Line {
			continue
		}
		if i := strings.Index(p.Value, "${"); i >= 0 && !secretKey(p.Key) {
			return nil, perr(p, "the value %s holds the unexpanded variable %s; Kafka does not expand ${...}: write the value itself (the guides' heredocs expand it in the shell)",
				srvtext.Quote(p.Value, i, secrets...), srvtext.Quote(variable(p.Value[i:]), 0, secrets...))
		}
		switch {
		case p.Key == "bootstrap.servers":
			for s := range strings.SplitSeq(p.Value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.BootstrapServers = append(c.BootstrapServers, s)
				}
			}
		case p.Key == "security.protocol":
			v := strings.ToUpper(strings.TrimSpace(p.Value))
			if v != "SASL_SSL" && v != "SASL_PLAINTEXT" {
				return nil, perr(p, "%s does not use SASL, so no OAUTHBEARER token is sent; use SASL_SSL", q(p.Value))
			}
			c.SecurityProtocol = v
		case p.Key == "sasl.mechanism":
			if strings.TrimSpace(p.Value) != "OAUTHBEARER" {
				return nil, perr(p, "%s is not supported; this module provides OAUTHBEARER tokens: set sasl.mechanism=OAUTHBEARER", q(p.Value))
			}
			c.SASLMechanism = "OAUTHBEARER"
		case held[p.Key] != nil:
			*held[p.Key] = p
		case strings.HasPrefix(p.Key, assertionPrefix):
			assertion = append(assertion, p)
		case p.Key == "https.ca.location" || p.Key == "https.ca.pem":
			if err := c.httpsCA(p); err != nil {
				return nil, err
			}
		case p.Key == "sasl.oauthbearer.header.urlencode":
			b, err := strconv.ParseBool(strings.TrimSpace(p.Value))
			if err != nil {
				return nil, perr(p, "%s is not a boolean; use true or false", q(p.Value))
			}
			urlencode = b
		case p.Key == "sasl.oauthbearer.sub.claim.name" || p.Key == "sasl.oauthbearer.scope.claim.name":
			def := map[string]string{"sasl.oauthbearer.sub.claim.name": "sub", "sasl.oauthbearer.scope.claim.name": "scope"}[p.Key]
			if strings.TrimSpace(p.Value) != def {
				return nil, perr(p, "%s cannot be honoured: the token's principal is read from the %q claim; remove the setting", q(p.Value), def)
			}
		case !isKnownKey(p.Key) && nearest(p.Key, knownKeys) != "":
			// A misspelling: "cannot be honoured" would be the wrong
			// advice, and passing it on would drop the setting silently.
			return nil, perr(p, "unknown setting; did you mean %s? %s", nearest(p.Key, knownKeys), troubleshooting.See("client-properties-unknown-key"))
		case strings.HasPrefix(p.Key, "sasl.login."):
			if err := c.loginTuning(p); err != nil {
				return nil, err
			}
		case p.Key == "schema.registry.url":
			c.SchemaRegistry.URL = strings.TrimSpace(p.Value)
		case p.Key == "bearer.auth.logical.cluster" || p.Key == "bearer.auth.identity.pool.id":
			// The check schemaregistry's options get (each optional; a
			// value given passes confluentid.Check), made where the key
			// is read so that the first problem in the file is reported.
			kind, id := confluentid.RegistryCluster, &c.SchemaRegistry.LogicalCluster
			if p.Key == "bearer.auth.identity.pool.id" {
				kind, id = confluentid.IdentityPools, &c.SchemaRegistry.IdentityPoolID
			}
			v := strings.TrimSpace(p.Value)
			if v != "" {
				if err := confluentid.Check(kind, p.Key, v); err != nil {
					return nil, perr(p, "%s is %v", srvtext.Quote(v, confluentid.At(err), secrets...), errors.Unwrap(err))
				}
			}
			*id = v
		case p.Key == "bearer.auth.credentials.source":
			v := strings.ToUpper(strings.TrimSpace(p.Value))
			if v != "CUSTOM" && v != "SASL_OAUTHBEARER_INHERIT" {
				return nil, perr(p, "%s cannot be honoured; the Schema Registry uses the Kafka token source here: use CUSTOM or SASL_OAUTHBEARER_INHERIT", q(p.Value))
			}
		case p.Key == "bearer.auth.custom.provider.class":
			if strings.TrimSpace(p.Value) != azureRegistryProviderClass {
				return nil, perr(p, "%s cannot be honoured; only %s (which reuses the Kafka token source) is understood", q(p.Value), azureRegistryProviderClass)
			}
		case strings.HasPrefix(p.Key, "basic.auth.") || p.Key == "bearer.auth.token" || strings.HasPrefix(p.Key, "bearer.auth.") ||
			strings.HasPrefix(p.Key, "sasl.") || strings.HasPrefix(p.Key, "schema.registry.") || strings.HasPrefix(p.Key, "security."):
			return nil, perr(p, "this authentication setting cannot be honoured; remove it (tokens come from the workload identity)")
		default:
			c.Other = append(c.Other, p)
		}
	}
	if c.SASLMechanism == "" {
		return nil, errors.New("clientprops: client.properties has no sasl.mechanism; add sasl.mechanism=OAUTHBEARER")
	}
	if c.SecurityProtocol == "" {
		return nil, errors.New("clientprops: client.properties has no security.protocol; add security.protocol=SASL_SSL (Kafka's default PLAINTEXT sends no token)")
	}
	if jaas.Key == "" {
		return nil, errors.New("clientprops: client.properties has no sasl.jaas.config; add sasl.jaas.config=" + oauthLoginModule + " required;")
	}
	entry, err := parseJAAS(jaas.Value)
	if err != nil {
		return nil, perr(jaas, "%v", err)
	}
	for _, o := range entry.Options {
		if isSecret(o.Key, o.Value) {
			secrets = append(secrets, o.Value)
		}
	}
	// name names option i of the entry in an error; see jaasName.
	name := func(i int) string { return jaasName(entry.Options[i], i, false, secrets...) }
	if entry.LoginModule != oauthLoginModule {
		return nil, perr(jaas, "login module %s cannot be honoured; use %s", q(entry.LoginModule), oauthLoginModule)
	}
	opts := map[string]string{}
	index := map[string]int{}
	for i, o := range entry.Options {
		if at := strings.Index(o.Value, "${"); at >= 0 && !secretKey(strings.ToLower(o.Key)) {
			return nil, perr(jaas, "option %s is %s, which holds the unexpanded variable %s; Kafka does not expand ${...}: write the value itself (the guides' heredocs expand it in the shell)",
				name(i), srvtext.Quote(o.Value, at, secrets...), srvtext.Quote(variable(o.Value[at:]), 0, secrets...))
		}
		opts[o.Key] = o.Value
		index[o.Key] = i
	}
	ext := map[string]string{}
	confluentKeys := []string{"extension_" + confluent.ExtensionLogicalCluster, "extension_" + confluent.ExtensionIdentityPoolID}
	for i, o := range entry.Options {
		k := o.Key
		extName, ok := strings.CutPrefix(k, "extension_")
		if !ok {
			continue
		}
		if near := nearest(k, confluentKeys); near != "" {
			// Sent as is, a misspelled Confluent extension is an unknown
			// extension the broker ignores, and the token is rejected
			// for a missing pool or cluster with no word about why.
			return nil, perr(jaas, "option %s is not a Confluent extension; did you mean %s? (the names are case-sensitive) %s", name(i), near, troubleshooting.See("client-properties-extension-near-miss"))
		}
		ext[extName] = o.Value
		delete(opts, k)
	}
	c.Extensions = confluent.Extensions{LogicalCluster: ext[confluent.ExtensionLogicalCluster], IdentityPoolID: ext[confluent.ExtensionIdentityPoolID]}
	delete(ext, confluent.ExtensionLogicalCluster)
	delete(ext, confluent.ExtensionIdentityPoolID)
	// confluent.Extensions.Validate is the one check of these IDs; the
	// error is worded for the JAAS option as the file names it. Its only
	// error wraps a *confluentid.FieldError.
	if err := c.Extensions.Validate(); err != nil {
		fe, _ := errors.AsType[*confluentid.FieldError](err)
		key := confluentKeys[0]
		if fe.Kind == confluentid.IdentityPools {
			key = confluentKeys[1]
		}
		return nil, perr(jaas, "option %s is %s, %v; %s", key, srvtext.Quote(fe.Value, confluentid.At(fe), secrets...), errors.Unwrap(fe), troubleshooting.See("sasl-extension-errors"))
	}
	if err := oauthbearer.ValidateExtensions(ext); err != nil {
		return nil, perr(jaas, "%v", err)
	}
	c.OtherExtensions = ext
	if c.SchemaRegistry.IdentityPoolID == "" {
		c.SchemaRegistry.IdentityPoolID = c.Extensions.IdentityPoolID
	}

	take := func(k string) (string, bool) { v, ok := opts[k]; delete(opts, k); return v, ok }
	switch strings.TrimSpace(handler.Value) {
	case azureHandlerClass:
		// The Java handler ignores these; the guides set them to 'ignored'.
		for _, k := range []string{"clientId", "clientSecret"} {
			if _, ok := take(k); ok {
				c.Ignored = append(c.Ignored, fmt.Sprintf("sasl.jaas.config option %s (line %d): ignored by %s", k, jaas.Line, azureHandlerClass))
			}
		}
		wi, _ := take("useWorkloadIdentity")
		scope, hasScope := take("scope")
		if endpoint.Key == "" {
			return nil, perr(handler, "the Azure handler needs sasl.oauthbearer.token.endpoint.url (the IMDS URL, or Entra ID's token endpoint with useWorkloadIdentity='true')")
		}
		switch strings.ToLower(strings.TrimSpace(wi)) {
		case "true":
			if !hasScope || scope == "" {
				return nil, perr(jaas, "useWorkloadIdentity='true' needs scope='<app-id>/.default'")
			}
			if strings.ContainsAny(strings.TrimSpace(scope), " \t,") {
				return nil, perr(jaas, "option scope %s holds more than one value; Entra ID issues a token for one resource: use scope='<app-id>/.default'", quoteSetting(scope))
			}
			if err := c.Source.workload(endpoint, scope); err != nil {
				return nil, err
			}
		case "", "false":
			if hasScope {
				return nil, perr(jaas, "option scope is not used by the IMDS form (the audience is the URL's resource parameter); remove it, or set useWorkloadIdentity='true'")
			}
			if err := c.Source.imds(endpoint); err != nil {
				return nil, err
			}
		default:
			return nil, perr(jaas, "option useWorkloadIdentity is %s; use 'true' or 'false'", q(wi))
		}
	case kafkaHandlerClass, kafkaSecuredHandlerClass:
		if err := c.jaasTLS(jaas, opts); err != nil {
			return nil, err
		}
		if done, err := c.kafkaRetriever(endpoint, retriever, assertion, &ccScope); err != nil {
			return nil, err
		} else if done {
			break
		}
		s := &c.Source
		s.Kind = SourceClientCredentials
		if endpoint.Key == "" {
			return nil, perr(handler, "Kafka's handler needs sasl.oauthbearer.token.endpoint.url")
		}
		if err := idphttp.CheckEndpoint("clientprops", endpoint.Key, endpoint.Value); err != nil {
			return nil, perr(endpoint, "%v", strings.TrimPrefix(err.Error(), "clientprops: "))
		}
		s.TokenURL = endpoint.Value
		s.RawBasicAuth = !urlencode
		id, _ := take("clientId")
		secret, _ := take("clientSecret")
		scope, _ := take("scope")
		s.ClientID, s.ClientSecret, s.Scope = cmp.Or(id, ccID.Value), oauthclient.Secret(cmp.Or(secret, ccSecret.Value)), cmp.Or(scope, ccScope.Value)
		// KIP-1258: a client assertion replaces the secret, and the
		// client ID is then optional, as in Kafka 4.4.
		assertionAuth := s.AssertionFile != "" || s.Assertion != nil
		if s.ClientID == "" && !assertionAuth {
			return nil, perr(jaas, "Kafka's client credentials handler needs the clientId option (or sasl.oauthbearer.client.credentials.client.id)")
		}
		if s.ClientSecret == "" && !assertionAuth {
			return nil, perr(jaas, "Kafka's client credentials handler needs the clientSecret option (or sasl.oauthbearer.client.credentials.client.secret)")
		}
	case "":
		return nil, errors.New("clientprops: client.properties has no sasl.login.callback.handler.class; without it Kafka uses the unsecured test handler. Set " + azureHandlerClass + " or " + kafkaHandlerClass)
	default:
		return nil, perr(handler, "handler %s cannot be honoured; use %s or %s", q(handler.Value), azureHandlerClass, kafkaHandlerClass)
	}
	c.TokenURL = endpoint
	if err := c.checkTLSKind(); err != nil {
		return nil, err
	}
	if c.Source.Kind != SourceClientCredentials && c.Source.Kind != SourceTokenFile && c.Source.Kind != SourceJWTBearer {
		for _, p := range append([]Property{retriever}, assertion...) {
			if p.Key != "" {
				return nil, perr(p, "only Kafka's own handler ("+kafkaHandlerClass+") uses this setting; remove it")
			}
		}
	}
	if c.Source.Kind != SourceClientCredentials {
		for _, p := range []Property{ccID, ccSecret, ccScope} {
			if p.Key != "" {
				return nil, perr(p, "only Kafka's client credentials handler uses this setting; remove it")
			}
		}
	}
	for i, o := range entry.Options {
		if _, left := opts[o.Key]; !left || index[o.Key] != i {
			continue
		}
		if near := nearest(o.Key, knownJAASOptions); near != "" {
			return nil, perr(jaas, "option %s is not an option of %s; did you mean %s? %s", name(i), strings.TrimSpace(handler.Value), near, troubleshooting.See("client-properties-unknown-key"))
		}
		return nil, perr(jaas, "option %s cannot be honoured by %s; remove it", name(i), strings.TrimSpace(handler.Value))
	}
	// Checked last, so that the authentication settings, the usual
	// trouble, are reported first.
	if len(c.BootstrapServers) == 0 {
		if p, ok := last["bootstrap.servers"]; ok {
			return nil, perr(p, "names no broker; list the brokers as host:port, separated by commas, such as bootstrap.servers=pkc-xxxxx.westeurope.azure.confluent.cloud:9092")
		}
		return nil, errors.New("clientprops: client.properties has no bootstrap.servers; add bootstrap.servers=<host:port>[,<host:port>...] " +
			"(the cluster's bootstrap endpoint, such as pkc-xxxxx.westeurope.azure.confluent.cloud:9092); " + troubleshooting.See("client-properties-no-bootstrap"))
	}
	return c, nil
}

// imds reads the IMDS URL form.
func (s *SourceSpec) imds(p Property) error {
	u, err := url.Parse(strings.TrimSpace(p.Value))
	if err != nil || u.Host == "" {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "not a URL; use the IMDS URL http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=<app-id>"}
	}
	if u.Path != imdsPath {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: fmt.Sprintf("path %s is not the IMDS token path %s; for AKS workload identity set useWorkloadIdentity='true'", srvtext.Quote(u.Path, 0), imdsPath)}
	}
	s.Kind = SourceAzureManagedIdentity
	if u.Host != imdsHost {
		s.IMDSEndpoint = u.Scheme + "://" + u.Host
	}
	q := u.Query()
	ids := 0
	for k, v := range q {
		if len(v) != 1 {
			return &PropertyError{Key: p.Key, Line: p.Line, Reason: fmt.Sprintf("query parameter %s is repeated", srvtext.Quote(k, 0))}
		}
		switch k {
		case "api-version":
		case "resource":
			s.Resource = v[0]
		case "client_id":
			s.ClientID, ids = v[0], ids+1
		case "msi_res_id", "mi_res_id":
			s.ResourceID, ids = v[0], ids+1
		case "object_id":
			s.ObjectID, ids = v[0], ids+1
		default:
			return &PropertyError{Key: p.Key, Line: p.Line, Reason: fmt.Sprintf("query parameter %s cannot be honoured; IMDS takes resource and one of client_id, msi_res_id, object_id", srvtext.Quote(k, 0))}
		}
	}
	if s.Resource == "" {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "the IMDS URL has no resource parameter; add resource=<application ID of the App Registration>"}
	}
	if strings.ContainsAny(strings.TrimSpace(s.Resource), " \t,") {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "the resource parameter " + quoteSetting(s.Resource) + " holds more than one value; IMDS issues a token for one resource: use the App Registration's application ID"}
	}
	if ids > 1 {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "give only one of client_id, msi_res_id and object_id"}
	}
	return nil
}

// workload reads the Entra token endpoint of the workload identity form.
func (s *SourceSpec) workload(p Property, scope string) error {
	u, err := url.Parse(strings.TrimSpace(p.Value))
	parts := []string{}
	if err == nil {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
	}
	if err != nil || u.Scheme != "https" || u.Host == "" || len(parts) != 4 || parts[0] == "" || parts[1] != "oauth2" || parts[2] != "v2.0" || parts[3] != "token" {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "with useWorkloadIdentity='true' this must be Entra ID's token endpoint https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"}
	}
	s.Kind = SourceAzureWorkloadIdentity
	s.TenantID = parts[0]
	s.AuthorityHost = "https://" + u.Host + "/"
	s.Scope = scope
	return nil
}

// loginTuning translates Kafka's sasl.login.* refresh and retry settings
// into CacheOptions. It accepts what Kafka 4.4's ConfigDef accepts and
// refuses what it refuses: the syntax of Java's Double.parseDouble,
// Short.parseShort and Long.parseLong, Kafka's ranges for the two SHORT
// settings, and the fractions' ranges, which the cache shares with Kafka
// and checks itself in [oauthbearer.CacheOptions.Validate], so that
// nothing the parser accepts can fail later in Build without naming the
// key and line. A 0 that CacheOptions reads as "the default" becomes the
// default; docs/troubleshooting.md says why none is less safe.
func (c *Config) loginTuning(p Property) error {
	v := strings.TrimSpace(p.Value)
	bad := func(format string, a ...any) error {
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: quoteSetting(p.Value) + " " + fmt.Sprintf(format, a...) + "; " + troubleshooting.See("bad-numeric-setting")}
	}
	var next oauthbearer.CacheOptions
	if c.Cache != nil {
		next = *c.Cache
	}
	switch p.Key {
	case "sasl.login.callback.handler.class":
		return nil
	case "sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter":
		f, err := parseDouble(v)
		if err != nil {
			return bad("%v", err)
		}
		if p.Key == "sasl.login.refresh.window.factor" {
			if f == 0 {
				// Validate would read 0 as the default; Kafka refuses it.
				return bad("is out of range: Kafka allows 0.5 to 1.0")
			}
			next.RefreshFraction = f
		} else {
			next.Jitter = f // 0: the cache's small default spread
		}
	case "sasl.login.refresh.buffer.seconds", "sasl.login.refresh.min.period.seconds":
		hi := map[string]int64{"sasl.login.refresh.buffer.seconds": 3600, "sasl.login.refresh.min.period.seconds": 900}[p.Key]
		n, err := parseWhole(v, 16, "seconds")
		if err != nil {
			return bad("%v", err)
		}
		if n < 0 || n > hi {
			return bad("is out of range: Kafka allows 0 to %d seconds", hi)
		}
		if p.Key == "sasl.login.refresh.min.period.seconds" {
			// The cache schedules refreshes itself (see the table in
			// docs/troubleshooting.md); the value is checked only.
			return nil
		}
		next.SafetyMargin = time.Duration(n) * time.Second // 0: the default margin
	case "sasl.login.retry.backoff.ms", "sasl.login.retry.backoff.max.ms",
		"sasl.login.connect.timeout.ms", "sasl.login.read.timeout.ms":
		n, err := parseWhole(v, 64, "milliseconds")
		if err != nil {
			return bad("%v", err)
		}
		if limit := int64(math.MaxInt64 / time.Millisecond); n > limit || n < -limit {
			return bad("is out of range: at most %d milliseconds", limit)
		}
		// 0 is the default. A negative value has no validator in Kafka's
		// ConfigDef, but Kafka's login fails on it (Retry's constructor
		// and HttpURLConnection's timeout setters throw IllegalArgumentException),
		// so the cache's own check refuses it below.
		d := time.Duration(n) * time.Millisecond
		switch {
		case p.Key == "sasl.login.retry.backoff.ms":
			next.MinBackoff = d
		case p.Key == "sasl.login.retry.backoff.max.ms":
			next.MaxBackoff = d
		case d < 0:
			// Alone, not added to the other timeout, where a larger
			// positive one would hide it.
			next.FetchTimeout = d
		case next.FetchTimeout > math.MaxInt64-d:
			return bad("is too large: with the other timeout it overflows the fetch timeout")
		default:
			// One fetch includes connecting and reading.
			next.FetchTimeout += d
		}
	default:
		return &PropertyError{Key: p.Key, Line: p.Line, Reason: "this login setting cannot be honoured; remove it"}
	}
	if err := next.Validate(); err != nil {
		// Only p changed since the last successful check, so p is the
		// setting to blame, whichever field the cache names.
		if oe, ok := errors.AsType[*oauthbearer.OptionError](err); ok {
			return &PropertyError{Key: p.Key, Line: p.Line, Err: err,
				Reason: fmt.Sprintf("%s is out of the refreshing cache's range (%s); %s", quoteSetting(p.Value), cacheReason(oe), troubleshooting.See("bad-numeric-setting"))}
		}
		return &PropertyError{Key: p.Key, Line: p.Line, Err: err, Reason: fmt.Sprintf("%s cannot be honoured: %v", quoteSetting(p.Value), err)}
	}
	c.Cache = &next
	return nil
}

// cacheSettings names the CacheOptions fields that sasl.login.* settings
// set, as a file writes them.
var cacheSettings = map[string]string{
	"RefreshFraction": "sasl.login.refresh.window.factor",
	"Jitter":          "sasl.login.refresh.window.jitter",
	"SafetyMargin":    "sasl.login.refresh.buffer.seconds",
	"MinBackoff":      "sasl.login.retry.backoff.ms",
	"MaxBackoff":      "sasl.login.retry.backoff.max.ms",
	"FetchTimeout":    "sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms",
}

// cacheReason is the cache's refusal of a sasl.login.* value worded for
// the file: its fields named by their keys ("sasl.login.retry.backoff.max.ms
// (100ms) is less than sasl.login.retry.backoff.ms (default 500ms); raise
// sasl.login.retry.backoff.max.ms"), without the package prefix.
func cacheReason(oe *oauthbearer.OptionError) string {
	msg := strings.TrimPrefix(oe.Error(), "oauthbearer: ")
	for _, f := range oe.Fields {
		if key, ok := cacheSettings[f]; ok {
			msg = strings.ReplaceAll(msg, "CacheOptions."+f, key)
			msg = strings.ReplaceAll(msg, "raise "+f, "raise "+key)
		}
	}
	return msg
}

// quoteSetting quotes a non-secret value through the one quoting
// function (clipped, escaped, URL secrets and token-shaped runs dropped).
func quoteSetting(v string) string { return srvtext.Quote(v, 0) }

// variable returns the ${...} reference at the start of s, at most 64
// bytes of it, for an error to name.
func variable(s string) string {
	if end := strings.IndexByte(s, '}'); end >= 0 && end < 64 {
		return s[:end+1]
	}
	return s[:min(len(s), 64)]
}

// errNumber is the reason for a value that Java's Double.parseDouble
// (Kafka's reading of a DOUBLE setting) does not read.
var errNumber = errors.New("is not a number: write digits with an optional sign, fraction and exponent (Java's forms, such as 0.8d or 0x1p-1, are read too; _ is not)")

// parseDouble reads a number as Java's Double.parseDouble does: decimal
// or hexadecimal (0x1p-1), with an optional f, F, d or D suffix, or
// Infinity, which the ranges then refuse as Kafka's do. NaN is the one
// deliberate narrowing: it passes Kafka's Range validator only because
// every comparison with NaN is false, and no refresh point can be
// computed from it. strconv.ParseFloat alone would also take inf, nan
// and _ separators, which Java refuses.
func parseDouble(s string) (float64, error) {
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, errNumber
	}
	switch body {
	case "NaN":
		return 0, errors.New("is NaN, which Kafka's range check lets through only because NaN compares false with every bound; give a number")
	case "Infinity":
		return strconv.ParseFloat(s, 64)
	}
	if n := len(body); n > 0 && strings.IndexByte("fFdD", body[n-1]) >= 0 {
		body, s = body[:n-1], s[:len(s)-1]
	}
	allowed := "0123456789.eE+-"
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		allowed = "0123456789abcdefABCDEF.pP+-"
		body = body[2:]
	}
	if body == "" || strings.Trim(body, allowed) != "" {
		return 0, errNumber
	}
	f, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
		return 0, errors.New("is out of range: not a finite number")
	}
	if err != nil {
		return 0, errNumber
	}
	return f, nil
}

// parseWhole reads a whole number as Java's Short.parseShort (bits 16)
// or Long.parseLong (bits 64) does: one optional sign, then decimal
// digits.
func parseWhole(s string, bits int, unitName string) (int64, error) {
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || strings.TrimLeft(body, "0123456789") != "" {
		return 0, fmt.Errorf("is not a whole number of %s: write digits only (no fraction, exponent, hex or _)", unitName)
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("is out of range: not a %d-bit whole number", bits)
	}
	return n, nil
}

// secretKey reports whether a property's value must never be quoted.
func secretKey(k string) bool {
	return isSecretKey(k)
}

// BuildOptions configure [Config.NewSource] and the builders of the
// kinds that need a cloud SDK (azure.FromClientProperties), which take
// the same options so that one call builds a file of any kind.
type BuildOptions struct {
	// AllowedURLs are the token endpoints the file may name, as Kafka's
	// org.apache.kafka.sasl.oauthbearer.allowed.urls system property
	// (CVE-2025-27817) restricts them: building refuses a
	// sasl.oauthbearer.token.endpoint.url that is not one of them, before
	// any request is made. Entries are trimmed and compared with the whole
	// URL exactly (scheme, host, port, path and query as written; no case
	// folding or normalisation), as Kafka does.
	//
	// Nil means unset: the environment variable [AllowedURLsEnv] applies
	// (comma-separated, as Kafka's system property). When neither is set,
	// only the Azure identity endpoints of the confluent-oauth-extensions
	// forms are allowed: the IMDS URL at http://169.254.169.254 (any
	// query) and Entra ID's authority hosts login.microsoftonline.com,
	// login.microsoftonline.us and login.chinacloudapi.cn (any path).
	// Every other endpoint, such as a client-credentials identity
	// provider's, must be listed, as Kafka 4 requires for its own handler.
	// A non-nil empty slice allows nothing.
	//
	// Why this default: Kafka 3.9.1 allows every URL when the property is
	// unset and Kafka 4 none. A file is text that may come from elsewhere
	// (a tenant, a ticket, a config service): the endpoint it names
	// receives the client secret or the workload's federated token, so an
	// unlisted endpoint is refused as in Kafka 4. The Azure endpoints are
	// the exception because their hosts are Microsoft's, the Java handler
	// for those forms never required the property, and the guides' files
	// keep working unchanged.
	AllowedURLs []string
	// AllowedFiles are the files the file may name for Kafka 4.4's
	// assertion settings (sasl.oauthbearer.assertion.file,
	// .private.key.file, .template.file), as Kafka's
	// org.apache.kafka.sasl.oauthbearer.allowed.files system property
	// restricts them: building refuses a file not listed, before reading
	// it. Entries are trimmed and compared exactly with the file's
	// absolute path (a relative path is joined to the working directory,
	// with no cleaning of . or .., and links are not followed), as Kafka
	// compares java.io.File.getAbsolutePath.
	//
	// Nil means unset: the environment variable [AllowedFilesEnv] applies
	// (comma-separated). When neither is set no such file may be read,
	// which is Kafka 4.4's default. A non-nil empty slice allows nothing.
	AllowedFiles []string
	// Logger receives the built source's records, among them the warning
	// Kafka 4.4 also logs when a file sets both an assertion file and the
	// settings of a locally signed assertion. Default: none (quiet). It
	// applies where the file's sasl.login.* tuning sets no logger.
	Logger *slog.Logger
	// Getenv reads the environment: [AllowedURLsEnv], [AllowedFilesEnv], and for workload
	// identity AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE, as the Java
	// handler does. Default os.Getenv.
	Getenv func(string) string
	// HTTPClient sends the token requests, on a shallow copy that never
	// follows redirects. Default: a client with a 30s timeout that keeps
	// no idle connections.
	HTTPClient *http.Client
}

// ErrNeedsCloudSDK is matched with errors.Is by the [*KindError]
// [Config.NewSource] returns for a kind it cannot build.
var ErrNeedsCloudSDK = errors.New("clientprops: this token source needs a cloud SDK module")

// KindError reports a file whose token source [Config.NewSource] cannot
// build because it needs a cloud SDK: build it with the builder named in
// the message (azure.FromClientProperties for the Azure kinds), which
// builds every kind.
type KindError struct {
	// Kind is the source kind the file describes.
	Kind SourceKind
	// Line is the line of sasl.oauthbearer.token.endpoint.url (0 for a
	// hand-made Config).
	Line int
}

// Error names the kind and the function that builds it.
func (e *KindError) Error() string {
	return fmt.Sprintf("clientprops: client.properties line %d describes %s, which needs the Azure SDK: build it with azure.FromClientProperties (module .../azure), which builds every kind", e.Line, e.Kind)
}

// Is makes errors.Is(err, ErrNeedsCloudSDK) true.
func (e *KindError) Is(target error) bool { return target == ErrNeedsCloudSDK }

// NewSource returns the token source the file describes, carrying its
// extensions, for the kinds that need no cloud SDK (client credentials,
// through [oauthclient.NewClientCredentials] with the file's sasl.login.*
// tuning). For the Azure kinds it returns a [*KindError]: build those with
// azure.FromClientProperties, which takes the same options.
//
// Every kind is first checked against the allow-list (see
// [BuildOptions.AllowedURLs]), so a builder of other kinds calls NewSource
// first and builds only on a [*KindError]: the allow-list is enforced in
// this one place whatever builds the source.
func (c *Config) NewSource(opts *BuildOptions) (*oauthbearer.ExtensionSource, error) {
	var o BuildOptions
	if opts != nil {
		o = *opts
	}
	if err := c.checkAllowed(&o); err != nil {
		return nil, err
	}
	if err := c.checkAllowedFiles(&o); err != nil {
		return nil, err
	}
	if c.Source.Kind == SourceClientCredentials || c.Source.Kind == SourceJWTBearer {
		hc, err := c.httpClient(&o)
		if err != nil {
			return nil, err
		}
		o.HTTPClient = hc
	}
	switch c.Source.Kind {
	case SourceClientCredentials:
		src, err := oauthclient.NewClientCredentials(c.clientCredentialsOptions(&o))
		if err != nil {
			return nil, c.nameSettings(err)
		}
		return oauthbearer.WithExtensions(settingNamed{Cache: src, c: c}, c.AllExtensions())
	case SourceTokenFile, SourceJWTBearer:
		src, err := c.newKafkaRetrieverSource(&o)
		if err != nil {
			return nil, err
		}
		return oauthbearer.WithExtensions(src, c.AllExtensions())
	case SourceAzureManagedIdentity, SourceAzureWorkloadIdentity:
		return nil, &KindError{Kind: c.Source.Kind, Line: c.TokenURL.Line}
	}
	return nil, fmt.Errorf("clientprops: Config.Source.Kind %s is unknown; read the file with Parse or ParseFile", srvtext.Quote(string(c.Source.Kind), 0))
}

// AllExtensions returns the SASL extensions the file sets: the Confluent
// ones and any other extension_* option.
func (c *Config) AllExtensions() map[string]string {
	ext := c.Extensions.Map()
	maps.Copy(ext, c.OtherExtensions)
	return ext
}
