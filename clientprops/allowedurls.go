package clientprops

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// AllowedURLsEnv is the environment variable holding the token endpoints
// a client.properties file may name, comma-separated, when
// [BuildOptions.AllowedURLs] is nil. It has the name of the Java system
// property Kafka added for CVE-2025-27817, so that the allow-list a
// deployment already gives its Java clients (-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=...)
// can be given to a Go service unchanged. Names with dots are legal in
// the environment: Kubernetes' env and docker run -e accept them, and a
// shell can pass one with env 'org.apache.kafka.sasl.oauthbearer.allowed.urls=https://...' ./service.
const AllowedURLsEnv = "org.apache.kafka.sasl.oauthbearer.allowed.urls"

// ErrURLNotAllowed is matched with errors.Is by the [*PropertyError]
// [Config.NewSource] returns when the file's token endpoint is not on
// the allow-list.
var ErrURLNotAllowed = errors.New("clientprops: the token endpoint is not on the allow-list")

// azureAuthorityHosts are Entra ID's authority hosts for the public, US
// Government and China clouds (azidentity's cloud configurations): the
// only hosts that take a federated or client credential for an Entra
// token.
var azureAuthorityHosts = []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}

// allowList is where the allow-list came from and what it holds.
type allowList struct {
	urls   []string // nil: neither the option nor the environment set one
	source string   // for messages: "BuildOptions.AllowedURLs" or the environment variable
}

// allowed returns the allow-list in force: BuildOptions.AllowedURLs if not
// nil, else the environment variable if not blank, else none (nil urls).
// Entries are trimmed and compared exactly, as Kafka does; the
// environment variable is split at commas, as Kafka splits the system
// property.
func (b *BuildOptions) allowed() allowList {
	return b.list(b.AllowedURLs, "BuildOptions.AllowedURLs", AllowedURLsEnv)
}

// list returns the allow-list in force for one kind of resource: opt if
// not nil (optName names it in messages), else the environment variable
// env if not blank, else none (nil urls).
func (b *BuildOptions) list(opt []string, optName, env string) allowList {
	if opt != nil {
		urls := []string{}
		for _, u := range opt {
			if u = strings.TrimSpace(u); u != "" {
				urls = append(urls, u)
			}
		}
		return allowList{urls: urls, source: optName}
	}
	getenv := b.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	v := getenv(env)
	if strings.TrimSpace(v) == "" {
		return allowList{}
	}
	urls := []string{}
	for u := range strings.SplitSeq(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	return allowList{urls: urls, source: "the environment variable " + env}
}

// builtinAllowed is the allow-list in force when none is set: the Azure
// identity endpoints of the confluent-oauth-extensions forms, whose hosts
// Microsoft fixes. The IMDS address is link-local (the request never
// leaves the machine, and the azure package asks azidentity's IMDS
// endpoint whatever the URL says); Entra ID's authority hosts are where a
// federated token must go anyway.
func builtinAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	switch u.Scheme {
	case "http":
		return u.Host == imdsHost && u.Path == imdsPath
	case "https":
		return slices.Contains(azureAuthorityHosts, u.Host)
	}
	return false
}

// checkAllowed refuses a token endpoint from the file that the allow-list
// in force does not contain. A Config not made by
// Parse (no TokenURL) is the caller's own and is not
// checked.
func (c *Config) checkAllowed(b *BuildOptions) error {
	p := c.TokenURL
	if p.Key == "" {
		return nil
	}
	raw := strings.TrimSpace(p.Value)
	list := b.allowed()
	fix := fmt.Sprintf("to allow it, add the value of line %d exactly as written (query included) to BuildOptions.AllowedURLs or to the environment variable %s (comma-separated, like Kafka's system property of that name)", p.Line, AllowedURLsEnv)
	var why string
	switch {
	case list.urls == nil:
		if builtinAllowed(raw) {
			return nil
		}
		why = "with no allow-list set, only the Azure identity endpoints may be contacted (IMDS at http://" + imdsHost + imdsPath + ", Entra ID at https://" + strings.Join(azureAuthorityHosts, ", https://") + ")"
	case slices.Contains(list.urls, raw):
		return nil
	default:
		why = fmt.Sprintf("it is not in %s (%d entries, each compared with the whole URL exactly, as Kafka does)", list.source, len(list.urls))
		if list.source == "BuildOptions.AllowedURLs" {
			fix = fmt.Sprintf("to allow it, add the value of line %d exactly as written (query included) to BuildOptions.AllowedURLs, which overrides the environment variable %s", p.Line, AllowedURLsEnv)
		} else {
			fix = fmt.Sprintf("to allow it, add the value of line %d exactly as written (query included) to the environment variable, or set BuildOptions.AllowedURLs", p.Line)
		}
	}
	return &PropertyError{Key: p.Key, Line: p.Line, Err: ErrURLNotAllowed,
		Reason: fmt.Sprintf("the token endpoint %s is not allowed: %s; %s; %s", srvtext.Quote(raw, 0), why, fix, troubleshooting.See("token-endpoint-not-allowed"))}
}
