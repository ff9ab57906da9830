package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/retryafter"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ErrV1Token is matched (errors.Is) by the error a source returns when it
// requires v2 tokens and the identity provider issued a v1 token.
var ErrV1Token = errors.New("azure: Microsoft Entra issued a v1 access token")

// Error is a failed token request to IMDS or Microsoft Entra ID, with the
// service's answer and what to do about it. Its message never includes a
// token or a client assertion.
//
// Transient failures (IMDS 404/410, 429, 5xx, network errors) are
// returned wrapped in an [oauthbearer.TransientError]; use errors.As to
// reach the *Error either way.
type Error struct {
	// Source names the credential: "managed identity", "workload
	// identity", ...
	Source string
	// StatusCode is the HTTP status of the failed reply, or 0 when no
	// reply was received.
	StatusCode int
	// OAuthError is the reply's "error" field, such as "invalid_client".
	OAuthError string
	// Code is Entra's first AADSTS error code (700024 for AADSTS700024),
	// or 0.
	Code int
	// Description is the service's error_description, trimmed of trace
	// and correlation IDs.
	Description string
	// Hint explains the usual cause and the fix.
	Hint string
	// Err is azidentity's error. Its message, which quotes the service's
	// whole reply, is scrubbed like Description. In an error a source
	// returns, Err is sealed: errors.Is matches through it
	// (context.DeadlineExceeded), but errors.As reaches only this
	// module's types, never azidentity's, whose fields hold the raw reply.
	Err error
}

// Error is one line: source, status, service description, hint.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("azure: " + e.Source + ": ")
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "token request failed with HTTP %d", e.StatusCode)
	default:
		b.WriteString("token request failed")
	}
	if e.OAuthError != "" {
		b.WriteString(" " + e.OAuthError)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	} else if e.StatusCode == 0 && e.Err != nil {
		b.WriteString(": " + srvtext.Field(firstLine(e.Err.Error())))
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	if l := guideLink(e); l != "" {
		b.WriteString("; " + l)
	}
	return b.String()
}

// Unwrap returns azidentity's error.
func (e *Error) Unwrap() error { return e.Err }

// hintContext is what the hints quote: settings, never secrets.
type hintContext struct {
	source   string
	clientID string // client ID or managed identity selector description
	tenantID string
	file     string
	scope    string
	identity string // "system-assigned identity" or "user-assigned identity with client ID ..."
	// sent lists credentials the requests carry (a client secret from
	// the environment) that the service's text must not make us quote;
	// federated tokens and assertions are JWTs, removed by shape.
	sent []string
}

// scrubbed quotes an azidentity error (whose message includes the raw
// reply body, where Entra may echo the posted client secret or client
// assertion) scrubbed and clipped, and unwraps to it.
type scrubbed struct {
	err  error
	sent []string
}

// maxSDKMessage bounds a quoted azidentity message.
const maxSDKMessage = 2048

func (s scrubbed) Error() string {
	return srvtext.Clip(srvtext.Scrub(s.err.Error(), s.sent...), maxSDKMessage)
}

func (s scrubbed) Unwrap() error { return s.err }

var traceRE = regexp.MustCompile(`\s*Trace ID:.*$`)

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// classify maps azidentity's errors to the module's retry contract:
// transient for IMDS 404/410, 429, 5xx and network failures (with the
// server's Retry-After), permanent with an explanation otherwise.
func classify(h hintContext, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("azure: %s: token request did not finish: %w", h.source, err)
	}
	var re *idphttp.RedirectError
	if errors.As(err, &re) {
		// Permanent: the endpoint setting is wrong, or something
		// intercepts it; asking again gets the same redirect.
		named := *re
		named.Source = "azure: " + h.source
		return &named
	}
	e := &Error{Source: h.source, Err: scrubbed{err, h.sent}}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		// Credential-unavailable and configuration errors: permanent.
		e.Description = srvtext.Field(firstLine(err.Error()), h.sent...)
		e.Hint = h.unavailableHint(e.Description)
		return e
	}
	resp := afe.RawResponse
	if resp == nil {
		// No reply: the service could not be reached or its reply could
		// not be read.
		e.Hint = "the identity endpoint could not be reached or answered garbage; it is retried"
		return oauthbearer.Transient(e, 0)
	}
	e.StatusCode = resp.StatusCode
	if body, rerr := runtime.Payload(resp); rerr == nil {
		var r struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Codes       []int  `json:"error_codes"`
		}
		if json.Unmarshal(body, &r) == nil {
			// Entra and IMDS may echo the request: quote the reply
			// scrubbed of what was sent and clipped.
			e.OAuthError = srvtext.Field(r.Error, h.sent...)
			e.Description = srvtext.Field(traceRE.ReplaceAllString(firstLine(r.Description), ""), h.sent...)
			if len(r.Codes) > 0 {
				e.Code = r.Codes[0]
			}
		}
	}
	if e.Code == 0 {
		if m := regexp.MustCompile(`AADSTS(\d+)`).FindStringSubmatch(e.Description); m != nil {
			e.Code, _ = strconv.Atoi(m[1])
		}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusNotFound || s == http.StatusGone:
		e.Hint = "IMDS is not ready (it answers 404/410 while the machine's identity is being set up or upgraded, for up to about 70 seconds); retried"
		return oauthbearer.Transient(e, retryAfter(resp.Header))
	case s == http.StatusTooManyRequests:
		e.Hint = "the identity endpoint is throttling requests; retried after the delay it asked for"
		return oauthbearer.Transient(e, retryAfter(resp.Header))
	case s >= 500:
		e.Hint = "the identity endpoint failed on its side; retried"
		return oauthbearer.Transient(e, retryAfter(resp.Header))
	}
	e.Hint = h.hint(e)
	return e
}

func (h hintContext) unavailableHint(desc string) string {
	switch {
	case strings.Contains(desc, "Identity not found") || strings.Contains(desc, "system assigned"):
		return "IMDS has no " + h.identity + " for this machine: enable the system-assigned identity or attach the user-assigned one to the VM, scale set or node pool, or set the right ClientID, ResourceID or ObjectID"
	default:
		return "check the credential's configuration"
	}
}

func (h hintContext) hint(e *Error) string {
	switch e.Code {
	case 700024:
		return fmt.Sprintf("the federated token file %q is stale: the Kubernetes service-account token in it has expired; "+
			"the kubelet rotates it only while the pod runs with a projected service-account token volume, so check the workload identity webhook "+
			"injected AZURE_FEDERATED_TOKEN_FILE and the volume, and that nothing copies the token once at startup", h.file)
	case 700016:
		return fmt.Sprintf("client ID %q is not an application in tenant %q: check AZURE_CLIENT_ID / ClientID (the managed identity's or App Registration's client ID) and AZURE_TENANT_ID / TenantID", h.clientID, h.tenantID)
	case 90002:
		return fmt.Sprintf("tenant %q does not exist in this cloud: check AZURE_TENANT_ID / TenantID and AZURE_AUTHORITY_HOST / AuthorityHost", h.tenantID)
	case 70021, 700211, 700212, 700213:
		return fmt.Sprintf("no federated identity credential on client %q matches the service-account token: add one whose issuer is the cluster's OIDC issuer URL "+
			"(az aks show --query oidcIssuerProfile.issuerUrl), whose subject is system:serviceaccount:<namespace>:<service-account> and whose audience is api://AzureADTokenExchange", h.clientID)
	case 700027:
		return "Entra could not verify the service-account token's signature with the keys published by the cluster's OIDC issuer; the issuer URL in the federated credential may point at another cluster"
	case 1002012, 500011, 70011:
		return fmt.Sprintf("the scope %q is not valid for this tenant: set Audience to the Kafka App Registration's application ID, api://<app-id-uri>, or <resource>/.default, and check the App Registration exists in tenant %q", h.scope, h.tenantID)
	}
	switch e.StatusCode {
	case http.StatusBadRequest:
		if strings.Contains(e.Description, "Identity not found") {
			return "IMDS has no " + h.identity + " for this machine: attach it to the VM, scale set or node pool, or set the right ClientID, ResourceID or ObjectID"
		}
		return "the request was refused: check the client ID, tenant ID and Audience"
	case http.StatusUnauthorized:
		return "the credential was refused: check the client ID and tenant ID, and for workload identity the federated identity credential"
	case http.StatusForbidden:
		return "access was denied: the identity lacks permission for this audience, or a proxy intercepted the request to the identity endpoint"
	}
	return "the request was refused"
}

// retryAfter parses Retry-After (seconds or HTTP date) and Azure's
// retry-after-ms / x-ms-retry-after-ms.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if d := retryafter.Millis(h.Get(k)); d > 0 {
			return d
		}
	}
	return retryafter.Parse(h.Get("Retry-After"), time.Now())
}
