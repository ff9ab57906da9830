package idptest

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// entraTokenExchangeAudience is the audience a Kubernetes service-account
// token must carry for Entra workload identity federation.
const entraTokenExchangeAudience = "api://AzureADTokenExchange"

// FederatedCredential is a federated identity credential on an app
// registration or user-assigned identity: Entra accepts an assertion from
// Issuer about Subject for Audience in place of a client secret.
type FederatedCredential struct {
	// Issuer is the assertion's required iss, such as an AKS cluster's OIDC
	// issuer URL (an [Issuer]'s IssuerURL in tests).
	Issuer string
	// JWKSURL is where the issuer's keys are fetched. Default: Issuer +
	// "/.well-known/jwks.json".
	JWKSURL string
	// Subject is the required sub, such as
	// "system:serviceaccount:<namespace>:<name>".
	Subject string
	// Audience is the required aud. Default "api://AzureADTokenExchange".
	Audience string
}

// EntraApp is an application (or user-assigned managed identity) in a
// tenant that can sign in with federated credentials.
type EntraApp struct {
	// TenantID is the directory the app lives in (a GUID). Required.
	TenantID string
	// ClientID is the application (client) ID. Required.
	ClientID string
	// ObjectID is the service principal's object ID: the oid and sub of
	// issued tokens. Default: random.
	ObjectID string
	// Federated lists the app's federated identity credentials.
	Federated []FederatedCredential
}

// EntraOptions configures an [Entra] emulator.
type EntraOptions struct {
	// Signer signs issued access tokens. Default: a new [Issuer] owned
	// (and closed) by the emulator.
	Signer *Issuer
	// Apps are the registered applications; their tenants are the only
	// tenants that exist.
	Apps []EntraApp
	// Lifetime is the lifetime of issued tokens (exp - iat). Zero means
	// the default, 1h; a negative value issues tokens already expired by
	// that much.
	Lifetime time.Duration
	// OmitExpiry leaves the exp claim out of issued JWTs.
	OmitExpiry bool
	// V1Tokens issues Entra v1 access tokens (ver "1.0", sts.windows.net
	// issuer, appid claim).
	V1Tokens bool
	// AppIDs maps an API's App ID URI (such as "api://kafka-orders") to
	// its application (client) ID, a GUID. A v2 token requested with scope
	// "<App ID URI>/.default" carries the GUID in "aud", as Entra's do; a
	// v1 token carries the resource as requested. An App ID URI not
	// listed gets a GUID derived from it ([Entra.AppID] tells which).
	AppIDs map[string]string
}

// Entra emulates the parts of Microsoft Entra ID (the v2.0 endpoints of
// login.microsoftonline.com) that MSAL's client-credentials flow with a
// federated client assertion uses:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	GET  /{tenant}/discovery/v2.0/keys
//	POST /{tenant}/oauth2/v2.0/token
//
// Its v2 tokens carry iss "<URL>/<tenant ID>/v2.0", the shape of
// https://login.microsoftonline.com/<tenant>/v2.0 on the emulator's host,
// and the discovery document names exactly that issuer (and the keys
// route as jwks_uri), so a validator that follows discovery accepts them.
//
// It serves TLS (azidentity refuses http authority hosts): use
// [Server.Client] as azidentity's ClientOptions.Transport and URL as
// Cloud.ActiveDirectoryAuthorityHost, with DisableInstanceDiscovery set.
// It verifies the client assertion against the app's federated
// credentials, fetching the assertion issuer's JWKS, and answers failures
// with Entra's JSON error shape and AADSTS codes.
type Entra struct {
	*Server
	// Signer is the issuer whose keys sign the access tokens
	// (EntraOptions.Signer, or one the emulator started and closes).
	Signer *Issuer

	opts EntraOptions

	mu        sync.Mutex
	verifiers map[string]*jwtverify.Verifier
}

// NewEntra starts an Entra emulator that is closed when t's test ends.
// It calls t.Fatalf on an app without TenantID or ClientID.
func NewEntra(t TB, opts *EntraOptions) *Entra {
	t.Helper()
	return newEmulator(t, opts, startEntra)
}

func startEntra(opts EntraOptions) (*Entra, error) {
	e := &Entra{verifiers: map[string]*jwtverify.Verifier{}}
	e.opts = opts
	e.opts.Lifetime = tokenLifetime(e.opts.Lifetime, time.Hour)
	e.opts.Apps = append([]EntraApp(nil), e.opts.Apps...)
	for i := range e.opts.Apps {
		a := &e.opts.Apps[i]
		if a.TenantID == "" || a.ClientID == "" {
			return nil, errors.New("EntraOptions.Apps: every app needs TenantID and ClientID")
		}
		if a.ObjectID == "" {
			a.ObjectID = newGUID()
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", e.serveDiscovery)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", e.serveToken)
	mux.HandleFunc("/{tenant}/discovery/v2.0/keys", e.serveKeys)
	srv, signer, err := startWithSigner(mux, serverConfig{format: formatEntra, tls: true}, e.opts.Signer, IssuerOptions{})
	if err != nil {
		return nil, err
	}
	e.Server, e.Signer = srv, signer
	return e, nil
}

// IssuerURL is the "iss" of the v2 tokens issued for apps in tenant (a
// tenant ID), which the tenant's discovery document names as its issuer:
// URL + "/" + tenant + "/v2.0", as Entra's
// https://login.microsoftonline.com/<tenant>/v2.0. (v1 tokens carry
// https://sts.windows.net/<tenant>/.)
func (e *Entra) IssuerURL(tenant string) string {
	id, _ := e.lookupTenant(tenant)
	return e.URL + "/" + id + "/v2.0"
}

// JWKSURL is where tenant's signing keys are served over the emulator's
// TLS (the discovery document's jwks_uri); the same keys are at the
// Signer's plain-HTTP JWKSURL.
func (e *Entra) JWKSURL(tenant string) string {
	id, _ := e.lookupTenant(tenant)
	return e.URL + "/" + id + "/discovery/v2.0/keys"
}

// AppID is the application (client) ID that a v2 token for resource (an
// App ID URI or a GUID) in tenant carries in "aud": see
// [EntraOptions.AppIDs].
func (e *Entra) AppID(tenant, resource string) string {
	id, _ := e.lookupTenant(tenant)
	return entraAppID(id, resource, e.opts.AppIDs)
}

// lookupTenant returns the tenant ID as registered and true when t names
// one (Entra matches tenant IDs case-insensitively), else t and false.
func (e *Entra) lookupTenant(t string) (id string, known bool) {
	for _, a := range e.opts.Apps {
		if strings.EqualFold(a.TenantID, t) {
			return a.TenantID, true
		}
	}
	return t, false
}

// TokenURL is the token endpoint's URL for tenant.
func (e *Entra) TokenURL(tenant string) string { return e.URL + "/" + tenant + "/oauth2/v2.0/token" }

// entraError writes Entra's OAuth error shape. The AADSTS code leads
// error_description, as Entra's does, and error_codes repeats it; an
// injected fault (code 0) has neither.
func entraError(w http.ResponseWriter, status int, oauthErr string, code int, desc string) {
	trace, corr := newGUID(), newGUID()
	now := time.Now().UTC()
	if code != 0 {
		desc = fmt.Sprintf("AADSTS%d: %s", code, desc)
	}
	full := fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s",
		desc, trace, corr, now.Format("2006-01-02 15:04:05Z"))
	body := map[string]any{
		"error":             oauthErr,
		"error_description": full,
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	if code != 0 {
		body["error_codes"] = []int{code}
		body["error_uri"] = "https://login.microsoftonline.com/error?code=" + fmt.Sprint(code)
	}
	noteError(w, oauthErr)
	writeJSON(w, status, body)
}

func (e *Entra) unknownTenant(w http.ResponseWriter, t string) {
	entraError(w, http.StatusBadRequest, "invalid_request", 90002,
		fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", t))
}

func (e *Entra) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		entraError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET requests.")
		return
	}
	t := r.PathValue("tenant")
	id, known := e.lookupTenant(t)
	if !known {
		e.unknownTenant(w, t)
		return
	}
	// The document names the host the client asked for, as Entra's names
	// login.microsoftonline.com: a client that reaches the emulator under
	// another name (through a proxy) stays on it, and MSAL finds the
	// issuer on its authority's host.
	origin := "https://" + r.Host
	base := origin + "/" + id
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              strings.Replace(e.JWKSURL(t), e.URL, origin, 1),
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                strings.Replace(e.IssuerURL(t), e.URL, origin, 1),
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// serveKeys publishes the signer's keys under the tenant, as Entra's
// /{tenant}/discovery/v2.0/keys does.
func (e *Entra) serveKeys(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		entraError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET requests.")
		return
	}
	t := r.PathValue("tenant")
	if _, known := e.lookupTenant(t); !known {
		e.unknownTenant(w, t)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": e.Signer.jwks()})
}

func (e *Entra) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		entraError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a "+r.Method+" request.")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be parsed.")
		return
	}
	f := r.PostForm
	tenant := r.PathValue("tenant")
	id, known := e.lookupTenant(tenant)
	note(w, func(q *Request) {
		q.TenantID, q.ClientID, q.Scope = id, f.Get("client_id"), f.Get("scope")
		q.Assertion = f.Get("client_assertion")
	})
	if !known {
		e.unknownTenant(w, tenant)
		return
	}
	for _, p := range []string{"grant_type", "client_id", "scope"} {
		if f.Get(p) == "" {
			entraError(w, http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", p))
			return
		}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		return
	}
	clientID := f.Get("client_id")
	var app *EntraApp
	for i := range e.opts.Apps {
		a := &e.opts.Apps[i]
		if strings.EqualFold(a.TenantID, tenant) && strings.EqualFold(a.ClientID, clientID) {
			app = a
		}
	}
	if app == nil {
		entraError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf(
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
			clientID, tenant))
		return
	}
	resource, ok := entraResource(f.Get("scope"))
	note(w, func(q *Request) { q.Resource = resource })
	if !ok {
		entraError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf(
			"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
			f.Get("scope")))
		return
	}
	if f.Get("client_secret") != "" {
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	if f.Get("client_assertion") == "" {
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if at := f.Get("client_assertion_type"); at != clientAssertionType {
		entraError(w, http.StatusBadRequest, "invalid_request", 700023, fmt.Sprintf("Client assertion type '%s' is not supported; use '%s'.", at, clientAssertionType))
		return
	}
	if status, oauthErr, code, desc := e.checkAssertion(app, f.Get("client_assertion")); code != 0 {
		entraError(w, status, oauthErr, code, desc)
		return
	}
	now := time.Now()
	exp := now.Add(e.opts.Lifetime)
	tok := e.Signer.Sign(entraClaims(entraTokenSpec{
		v1: e.opts.V1Tokens, issuerV2: e.IssuerURL(app.TenantID), tenant: app.TenantID,
		aud:   entraAudience(e.opts.V1Tokens, app.TenantID, resource, e.opts.AppIDs),
		appID: app.ClientID, oid: app.ObjectID, now: now, exp: exp, omitExp: e.opts.OmitExpiry,
	}))
	note(w, func(q *Request) { q.Subject, q.Token = app.ObjectID, tok })
	life := int64(e.opts.Lifetime / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     life,
		"ext_expires_in": life,
		"access_token":   tok,
	})
}

// entraResource extracts the resource from a client-credentials scope
// list: exactly one "<resource>/.default" scope, optionally beside the
// OIDC scopes MSAL adds.
func entraResource(scope string) (string, bool) {
	var res []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access":
			continue
		}
		r, ok := strings.CutSuffix(s, "/.default")
		if !ok || r == "" {
			return "", false
		}
		res = append(res, r)
	}
	if len(res) != 1 {
		return "", false
	}
	return res[0], true
}

// checkAssertion verifies a federated client assertion against the app's
// federated credentials, returning Entra's error for the first problem.
func (e *Entra) checkAssertion(app *EntraApp, assertion string) (status int, oauthErr string, code int, desc string) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, claims); err != nil {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	var auds []string
	if a, err := claims.GetAudience(); err == nil {
		auds = a
	}
	var byIssuer []FederatedCredential
	for _, fc := range app.Federated {
		if fc.Issuer == iss {
			byIssuer = append(byIssuer, fc)
		}
	}
	if len(byIssuer) == 0 {
		return http.StatusBadRequest, "invalid_request", 700211,
			fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.", iss)
	}
	var bySubject []FederatedCredential
	for _, fc := range byIssuer {
		if fc.Subject == sub {
			bySubject = append(bySubject, fc)
		}
	}
	if len(bySubject) == 0 {
		return http.StatusBadRequest, "invalid_request", 700213,
			fmt.Sprintf("No matching federated identity record found for presented assertion subject '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.", sub)
	}
	var match *FederatedCredential
	var wantAud string // match's audience: Entra's default if it names none
	for i, fc := range bySubject {
		if want := cmp.Or(fc.Audience, entraTokenExchangeAudience); slices.Contains(auds, want) {
			match, wantAud = &bySubject[i], want
		}
	}
	if match == nil {
		return http.StatusBadRequest, "invalid_request", 70021,
			fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", iss, sub, strings.Join(auds, ","))
	}
	jwks := match.JWKSURL
	if jwks == "" {
		jwks = strings.TrimSuffix(match.Issuer, "/") + "/.well-known/jwks.json"
	}
	e.mu.Lock()
	v := e.verifiers[jwks]
	if v == nil {
		v = jwtverify.New(jwks, nil) // a client with a timeout of its own
		e.verifiers[jwks] = v
	}
	e.mu.Unlock()
	// Entra publishes no clock-skew allowance for client assertions: the
	// emulator allows jwtverify's default.
	_, _, err := v.Verify(assertion, jwtverify.Expect{Issuer: match.Issuer, Audience: wantAud})
	var ve *jwtverify.Error
	if errors.As(err, &ve) {
		switch ve.Reason {
		case jwtverify.Expired, jwtverify.NotYetValid, jwtverify.NoExpiry:
			exp, _ := claims.GetExpirationTime()
			expS := "none"
			if exp != nil {
				expS = exp.UTC().Format("2006-01-02 15:04:05Z")
			}
			return http.StatusBadRequest, "invalid_client", 700024, fmt.Sprintf(
				"Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
				time.Now().UTC().Format("2006-01-02 15:04:05Z"), expS)
		case jwtverify.UnknownKid, jwtverify.BadSignature:
			return http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation."
		default:
			return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
		}
	}
	if err != nil {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	return 0, "", 0, ""
}
