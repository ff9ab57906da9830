package idptest

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// imdsAddress is the host of the Azure Instance Metadata Service, which
// the IMDS emulator's [Server.Client] routes to the emulator.
const imdsAddress = "169.254.169.254"

// imdsTokenPath is the managed-identity token endpoint's path.
const imdsTokenPath = "/metadata/identity/oauth2/token"

// ManagedIdentity names one identity assigned to the emulated machine.
// Empty IDs are filled with random ones by [NewIMDS].
type ManagedIdentity struct {
	// ClientID is the identity's application (client) ID, a GUID; IMDS
	// selects it with the client_id query parameter and puts it in the
	// token's azp/appid claim.
	ClientID string
	// ObjectID is the identity's service principal object ID; selected
	// with object_id; the token's oid and sub claims.
	ObjectID string
	// ResourceID is the ARM resource ID of a user-assigned identity;
	// selected with msi_res_id.
	ResourceID string
}

// IMDSOptions configures an [IMDS] emulator. The zero value is valid: a
// machine with a system-assigned identity and no user-assigned ones,
// issuing 24-hour Entra v2 tokens signed by an issuer of its own.
type IMDSOptions struct {
	// Signer signs the access tokens, standing in for Microsoft Entra ID's
	// keys. Default: a new [Issuer] owned (and closed) by the emulator.
	Signer *Issuer
	// TenantID is the tid claim and part of v1 issuers. Default
	// "00000000-0000-4000-8000-0000000000aa".
	TenantID string
	// DisableSystemAssigned removes the system-assigned identity: requests
	// without a selector then fail with "Identity not found", as on a VM
	// whose system-assigned identity is off.
	DisableSystemAssigned bool
	// SystemAssigned gives the system-assigned identity's IDs (ResourceID
	// is ignored). Default: random IDs.
	SystemAssigned ManagedIdentity
	// UserAssigned lists the user-assigned identities attached to the
	// machine. Default: none.
	UserAssigned []ManagedIdentity
	// Lifetime is the lifetime of issued tokens (exp - iat). Zero means
	// the default, 24h (what IMDS hands out); a negative value issues
	// tokens already expired by that much.
	Lifetime time.Duration
	// OmitExpiry leaves the exp claim out of the JWT (the JSON reply keeps
	// its expires_in/expires_on fields).
	OmitExpiry bool
	// V1Tokens issues Entra v1 access tokens (ver "1.0", iss
	// https://sts.windows.net/<tenant>/, appid instead of azp), which is
	// what an App Registration without accessTokenAcceptedVersion 2 gets.
	V1Tokens bool
	// AppIDs maps an API's App ID URI (such as "api://kafka-orders") to
	// its application (client) ID, a GUID. A v2 token requested for the
	// URI carries the GUID in "aud", as Entra's do; a v1 token carries
	// the resource as requested. An App ID URI not listed gets a GUID
	// derived from it ([IMDS.AppID] tells which). Default: none.
	AppIDs map[string]string
}

// IMDS emulates the Azure Instance Metadata Service's managed-identity
// token endpoint (GET /metadata/identity/oauth2/token) as strictly as the
// real one: it requires the "Metadata: true" header, api-version and
// resource, accepts at most one of client_id, msi_res_id and object_id,
// refuses proxied requests (X-Forwarded-For), and answers errors with
// IMDS's JSON shape. Replies carry IMDS's string-valued JSON fields.
//
// Point azidentity at it with ClientOptions.Transport = imds.Client(),
// which routes requests for 169.254.169.254 to the emulator.
type IMDS struct {
	*Server
	// SystemAssigned is the system-assigned identity's IDs (generated
	// where IMDSOptions.SystemAssigned left them empty).
	SystemAssigned ManagedIdentity
	// TenantID is the tenant in the tokens' tid claim.
	TenantID string
	// Signer is the issuer whose keys sign the tokens (IMDSOptions.Signer,
	// or one the emulator started and closes); validate them against its
	// JWKSURL.
	Signer *Issuer

	opts IMDSOptions
}

// NewIMDS starts an IMDS emulator that is closed when t's test ends.
func NewIMDS(t TB, opts *IMDSOptions) *IMDS {
	t.Helper()
	return newEmulator(t, opts, startIMDS)
}

func startIMDS(opts IMDSOptions) (*IMDS, error) {
	m := &IMDS{}
	m.opts = opts
	m.TenantID = cmp.Or(m.opts.TenantID, "00000000-0000-4000-8000-0000000000aa")
	m.opts.Lifetime = tokenLifetime(m.opts.Lifetime, 24*time.Hour)
	m.SystemAssigned = m.opts.SystemAssigned
	m.SystemAssigned.ResourceID = ""
	fillIDs(&m.SystemAssigned)
	m.opts.UserAssigned = append([]ManagedIdentity(nil), m.opts.UserAssigned...)
	for i := range m.opts.UserAssigned {
		fillIDs(&m.opts.UserAssigned[i])
	}
	mux := http.NewServeMux()
	mux.HandleFunc(imdsTokenPath, m.serveToken)
	srv, signer, err := startWithSigner(mux, serverConfig{format: formatIMDS, reroute: []string{imdsAddress}}, m.opts.Signer, IssuerOptions{})
	if err != nil {
		return nil, err
	}
	m.Server, m.Signer = srv, signer
	return m, nil
}

// AppID is the application (client) ID that a v2 token requested for
// resource carries in "aud": resource itself when it is a GUID, the
// configured [IMDSOptions.AppIDs] entry, or a GUID derived from the URI.
func (m *IMDS) AppID(resource string) string {
	return entraAppID(m.TenantID, strings.TrimSuffix(resource, "/.default"), m.opts.AppIDs)
}

// supported IMDS identity api-versions; the real service lists more.
var imdsAPIVersions = map[string]bool{
	"2018-02-01": true, "2019-08-01": true, "2019-11-01": true, "2020-06-01": true, "2021-02-01": true,
}

func (m *IMDS) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "The requested method is not supported; use GET")
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Request contains X-Forwarded-For header")
		return
	}
	if !strings.EqualFold(r.Header.Get("Metadata"), "true") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	q := r.URL.Query()
	switch v := q.Get("api-version"); {
	case v == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return
	case !imdsAPIVersions[v]:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid value for query variable 'api-version'")
		return
	}
	resource := q.Get("resource")
	note(w, func(q *Request) { q.Resource = resource })
	if resource == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
		return
	}
	var selectors []string
	for _, k := range []string{"client_id", "msi_res_id", "object_id", "mi_res_id"} {
		if q.Has(k) {
			selectors = append(selectors, k)
		}
	}
	if len(selectors) > 1 {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Multiple identities specified; use only one of client_id, object_id or msi_res_id")
		return
	}
	id, ok := m.identity(q, selectors)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	}
	now := time.Now()
	exp := now.Add(m.opts.Lifetime)
	aud := entraAudience(m.opts.V1Tokens, m.TenantID, strings.TrimSuffix(resource, "/.default"), m.opts.AppIDs)
	tok := m.Signer.Sign(entraClaims(entraTokenSpec{
		v1: m.opts.V1Tokens, issuerV2: m.Signer.IssuerURL, tenant: m.TenantID, aud: aud,
		appID: id.ClientID, oid: id.ObjectID, now: now, exp: exp, omitExp: m.opts.OmitExpiry,
	}))
	note(w, func(q *Request) {
		q.TenantID, q.ClientID, q.Subject, q.Token = m.TenantID, id.ClientID, id.ObjectID, tok
	})
	life := int64(m.opts.Lifetime / time.Second)
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token":   tok,
		"client_id":      id.ClientID,
		"expires_in":     strconv.FormatInt(life, 10),
		"expires_on":     strconv.FormatInt(exp.Unix(), 10),
		"ext_expires_in": strconv.FormatInt(life, 10),
		"not_before":     strconv.FormatInt(now.Unix(), 10),
		"resource":       resource,
		"token_type":     "Bearer",
	})
}

func (m *IMDS) identity(q url.Values, selectors []string) (ManagedIdentity, bool) {
	if len(selectors) == 0 {
		return m.SystemAssigned, !m.opts.DisableSystemAssigned
	}
	key := selectors[0]
	want := q.Get(key)
	for _, id := range m.opts.UserAssigned {
		var have string
		switch key {
		case "client_id":
			have = id.ClientID
		case "object_id":
			have = id.ObjectID
		default:
			have = id.ResourceID
		}
		if have != "" && strings.EqualFold(have, want) {
			return id, true
		}
	}
	return ManagedIdentity{}, false
}

func fillIDs(id *ManagedIdentity) {
	if id.ClientID == "" {
		id.ClientID = newGUID()
	}
	if id.ObjectID == "" {
		id.ObjectID = newGUID()
	}
}

// newGUID returns a random version-4 UUID.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// entraAudience is the "aud" of an Entra access token requested for
// resource. A v1 token carries the resource as requested. A v2 token
// carries the resource application's client ID, a GUID, even when the
// token was requested with the App ID URI ("api://kafka-orders"): see
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
// ("aud ... in v2.0 tokens, this value is always the client ID of the
// API"). A broker configured with the App ID URI rejects such tokens in
// Azure, so the emulators must not accept the mistake either.
func entraAudience(v1 bool, tenant, resource string, appIDs map[string]string) string {
	if v1 {
		return resource
	}
	return entraAppID(tenant, resource, appIDs)
}

// entraAppID resolves resource to an application ID: a GUID is itself, an
// App ID URI is looked up in appIDs (case-insensitively, as Entra matches
// identifier URIs), and any other URI gets a GUID derived from tenant and
// URI, so one emulator always answers the same for the same API.
func entraAppID(tenant, resource string, appIDs map[string]string) string {
	if isGUID(resource) {
		return strings.ToLower(resource)
	}
	for uri, id := range appIDs {
		if strings.EqualFold(strings.TrimSuffix(uri, "/"), strings.TrimSuffix(resource, "/")) {
			return id
		}
	}
	sum := sha256.Sum256([]byte("emu-app-id\x00" + strings.ToLower(tenant) + "\x00" + strings.ToLower(strings.TrimSuffix(resource, "/"))))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5: name-based
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// isGUID reports whether s has the 8-4-4-4-12 hex shape of a GUID.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// entraTokenSpec describes a Microsoft Entra access token for an app.
type entraTokenSpec struct {
	v1               bool
	issuerV2, tenant string
	aud, appID, oid  string
	now, exp         time.Time
	omitExp          bool
}

// entraClaims builds the claims of an Entra app-only access token: v2
// tokens carry ver "2.0", azp and the issuer's own URL; v1 tokens ver
// "1.0", appid and the sts.windows.net issuer.
func entraClaims(s entraTokenSpec) map[string]any {
	c := map[string]any{
		"aud": s.aud, "tid": s.tenant, "oid": s.oid, "sub": s.oid,
		"iat": s.now.Unix(), "nbf": s.now.Unix(), "exp": s.exp.Unix(),
		"uti": randomB64URL(16), "rh": "0.emulated",
	}
	if s.v1 {
		c["ver"] = "1.0"
		c["iss"] = "https://sts.windows.net/" + s.tenant + "/"
		c["appid"] = s.appID
		c["appidacr"] = "2"
	} else {
		c["ver"] = "2.0"
		c["iss"] = s.issuerV2
		c["azp"] = s.appID
		c["azpacr"] = "2"
	}
	if s.omitExp {
		delete(c, "exp")
	}
	return c
}
