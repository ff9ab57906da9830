package idptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// STSOptions configures an [STS] emulator. The zero value is valid: a
// regional endpoint in us-west-2 that accepts any structurally valid
// SigV4 signature and answers for the role
// arn:aws:iam::123456789012:role/kafka-workload.
type STSOptions struct {
	// Region is the region whose regional endpoint
	// (sts.<Region>.amazonaws.com) the emulator plays. The region is read
	// from the SigV4 credential scope, as the real service does: a request
	// signed for another region is refused with 403 SignatureDoesNotMatch
	// ("Credential should be scoped to a valid region"). Default
	// "us-west-2".
	Region string

	// Global makes the emulator play the global endpoint sts.amazonaws.com
	// (signing region us-east-1), which does not serve
	// GetWebIdentityToken: every such call is refused with 400
	// InvalidAction. Region is ignored. AWS documents that the operation
	// is not available on the global endpoint but not the exact error; the
	// code and message here are the emulator's choice.
	Global bool

	// AccessKeyID, if set, is the only access key accepted; others get
	// 403 InvalidClientTokenId. Default: any key.
	AccessKeyID string

	// SecretAccessKey, if set, makes the emulator recompute the SigV4
	// signature with the SDK's signer and refuse a mismatch with 403
	// SignatureDoesNotMatch. Without it only the Authorization header's
	// structure, the credential scope and X-Amz-Date are checked.
	SecretAccessKey string

	// RoleARN is the caller's IAM role, put in the token's "sub" claim.
	// Default "arn:aws:iam::123456789012:role/kafka-workload".
	RoleARN string

	// FederationDisabled starts the emulator with outbound web identity
	// federation disabled for the account, as before
	// `aws iam enable-outbound-web-identity-federation`: every call gets
	// 403 OutboundWebIdentityFederationDisabledException. See
	// [STS.SetFederationEnabled].
	FederationDisabled bool

	// AllowedAudiences, when not empty, plays an IAM policy with the
	// condition "ForAllValues:StringEquals": {"sts:IdentityTokenAudience":
	// AllowedAudiences}: a request naming any other audience gets 403
	// AccessDenied. Default: every audience is allowed.
	AllowedAudiences []string

	// MaxDurationSeconds, when not zero, plays the policy condition
	// "NumericLessThanEquals": {"sts:DurationSeconds": MaxDurationSeconds}:
	// a longer request gets 403 AccessDenied. Default: no condition.
	MaxDurationSeconds int

	// SessionExpiry, when set, is when the caller's credentials expire. A
	// token that would outlive them is refused with 403
	// SessionDurationEscalationException, as the real service refuses to
	// extend a session. Default: the credentials never expire.
	SessionExpiry time.Time
}

// STS emulates the regional AWS Security Token Service endpoint's
// GetWebIdentityToken operation (IAM outbound identity federation) over
// the awsquery protocol: POST / with a form body, SigV4 authentication,
// XML replies and the real XML error shape and status codes. Point the
// aws-sdk-go-v2 STS client at it with BaseEndpoint = URL.
//
// Tokens are signed by one of two [Issuer]s (RS256 and ES384, as the
// request's SigningAlgorithm asks) that share the issuer URL IssuerURL;
// the emulator serves the union of their keys at JWKSURL and a discovery
// document, as the account's real issuer
// https://<uuid>.tokens.sts.global.api.aws does.
//
// Faults queued with FailNext hit the STS endpoint; a Fault with a Code
// answers in the real XML error shape (Throttling: Fault{Status: 400,
// Code: "Throttling", Message: "Rate exceeded"}).
type STS struct {
	*Server
	// IssuerURL is the "iss" claim of every token: the emulator's URL.
	IssuerURL string
	// JWKSURL serves the public keys of both signing algorithms.
	JWKSURL string
	// Region is the region the emulator serves ("us-east-1" when
	// Global).
	Region string
	// RoleARN is the caller's role, the "sub" of every token.
	RoleARN string

	akid, secret  string
	global        bool
	allowed       []string
	maxDuration   int
	sessionExpiry time.Time
	rs, es        *Issuer

	mu     sync.Mutex
	fedOff bool
}

// stsRequest is a GetWebIdentityToken call's parameters.
type stsRequest struct {
	AccessKeyID      string
	Region           string
	Audiences        []string
	SigningAlgorithm string
	DurationSeconds  int
	Tags             map[string]string
	SessionToken     bool
}

// NewSTS starts an STS emulator that is closed when t's test ends. It
// calls t.Fatalf when RoleARN is not an IAM role ARN.
func NewSTS(t TB, opts *STSOptions) *STS {
	t.Helper()
	return newEmulator(t, opts, startSTS)
}

func startSTS(o STSOptions) (*STS, error) {
	if o.Region == "" {
		o.Region = "us-west-2"
	}
	if o.Global {
		o.Region = "us-east-1"
	}
	if o.RoleARN == "" {
		o.RoleARN = "arn:aws:iam::123456789012:role/kafka-workload"
	}
	if !stsRoleARN.MatchString(o.RoleARN) {
		return nil, fmt.Errorf("STSOptions.RoleARN is %q; use an IAM role ARN such as arn:aws:iam::123456789012:role/name", o.RoleARN)
	}
	s := &STS{
		Region: o.Region, RoleARN: o.RoleARN, akid: o.AccessKeyID, secret: o.SecretAccessKey,
		global: o.Global, allowed: slices.Clone(o.AllowedAudiences), maxDuration: o.MaxDurationSeconds,
		sessionExpiry: o.SessionExpiry, fedOff: o.FederationDisabled,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", s.serveQuery)
	mux.HandleFunc("GET /.well-known/jwks.json", s.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.serveDiscovery)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		stsWriteError(w, http.StatusNotFound, "UnknownOperationException", "")
	})
	srv, err := startServer(mux, serverConfig{format: formatSTS})
	if err != nil {
		return nil, err
	}
	// The issuers are created once the URL is known, because the issuer
	// URL is the emulator's own (it serves the combined JWKS).
	rs, err := startIssuer(IssuerOptions{Algorithm: "RS256", IssuerURL: srv.URL})
	if err != nil {
		srv.Close()
		return nil, err
	}
	es, err := startIssuer(IssuerOptions{Algorithm: "ES384", IssuerURL: srv.URL})
	if err != nil {
		rs.Close()
		srv.Close()
		return nil, err
	}
	srv.onClose = append(srv.onClose, rs.Close, es.Close)
	s.Server, s.rs, s.es = srv, rs, es
	s.IssuerURL, s.JWKSURL = srv.URL, srv.URL+"/.well-known/jwks.json"
	return s, nil
}

// Issuer returns the issuer that signs tokens for alg ("RS256" or
// "ES384"), to rotate its key. It returns nil for any other alg.
func (s *STS) Issuer(alg string) *Issuer {
	switch alg {
	case "RS256":
		return s.rs
	case "ES384":
		return s.es
	}
	return nil
}

// SetFederationEnabled turns the account's outbound web identity
// federation on or off while clients run.
func (s *STS) SetFederationEnabled(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fedOff = !enabled
}

const (
	stsNamespace  = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsAPIVersion = "2011-06-15"
)

var (
	stsRoleARN     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$`)
	stsAuthHeader  = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)
	stsTagKey      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	stsTagValue    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	stsMemberIndex = regexp.MustCompile(`^(Audience|Tags)\.member\.([1-9][0-9]*)(\.Key|\.Value)?$`)
	// stsScope is webIdentityTokenScopeType's pattern: space-separated
	// printable ASCII values without '"', ',' or '\'.
	stsScope = regexp.MustCompile(`^[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]+( [\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]+)*$`)
)

// The errors AWS's service model lists for GetWebIdentityToken, with the
// HTTP status it gives each (botocore data/sts/2011-06-15/service-2.json;
// idptest/testdata holds the operation's part of it, which
// TestSTSErrorsMatchTheServiceModel compares with this table).
var stsModelledErrors = map[string]int{
	"SessionDurationEscalationException":             http.StatusForbidden,
	"OutboundWebIdentityFederationDisabledException": http.StatusForbidden,
	"JWTPayloadSizeExceededException":                http.StatusBadRequest,
	"SignerNotConfiguredException":                   http.StatusNotFound,
	"RegionalSignerUnavailableException":             http.StatusNotFound,
}

// stsWriteModelled answers with one of [stsModelledErrors], at its
// modelled status.
func stsWriteModelled(w http.ResponseWriter, code, message string) {
	stsWriteError(w, stsModelledErrors[code], code, message)
}

func (s *STS) serveQuery(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		stsWriteError(w, http.StatusBadRequest, "MalformedInput", "could not read the request body")
		return
	}
	akid, region, code, msg, status := s.authenticate(r, body)
	note(w, func(q *Request) { q.AccessKeyID, q.Region = akid, region })
	if code != "" {
		stsWriteError(w, status, code, msg)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		stsWriteError(w, http.StatusBadRequest, "MalformedInput", fmt.Sprintf("Unsupported Content-Type %q", ct))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		stsWriteError(w, http.StatusBadRequest, "MalformedInput", "the request body is not a valid form")
		return
	}
	action := form.Get("Action")
	switch {
	case action == "":
		stsWriteError(w, http.StatusBadRequest, "MissingAction", "Missing Action")
		return
	case action != "GetWebIdentityToken" || form.Get("Version") != stsAPIVersion:
		stsWriteError(w, http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", action, form.Get("Version")))
		return
	}
	if s.global {
		stsWriteError(w, http.StatusBadRequest, "InvalidAction",
			"GetWebIdentityToken is not available on the STS global endpoint (sts.amazonaws.com); call a regional endpoint such as sts.us-east-1.amazonaws.com")
		return
	}
	req, errs := stsParse(form)
	note(w, func(q *Request) {
		q.Audience, q.SigningAlgorithm, q.DurationSeconds = req.Audiences, req.SigningAlgorithm, req.DurationSeconds
		q.Tags, q.SessionToken = req.Tags, r.Header.Get("X-Amz-Security-Token") != ""
	})
	if len(errs) > 0 {
		stsWriteError(w, http.StatusBadRequest, "ValidationError", stsValidationMessage(errs))
		return
	}
	// Both are valid requests that the emulated caller cannot be served:
	// it is a role session without a trusted identity propagation context
	// and without a workload identity.
	if form.Get("SubjectMode") == "OriginIdentity" {
		stsWriteError(w, http.StatusBadRequest, "ValidationError",
			"SubjectMode OriginIdentity requires the aws:OriginIdentity/Subject key and the aws:OriginIdentity/Issuer or aws:OriginIdentity/FederatedProviderArn key in the calling session's trusted identity propagation context")
		return
	}
	if form.Get("TokenType") == "JWT_SVID" {
		stsWriteModelled(w, "SignerNotConfiguredException",
			"The calling session has no workload identity whose provider has a JWT signer; a JWT_SVID cannot be issued")
		return
	}
	req.AccessKeyID, req.Region = akid, region
	req.SessionToken = r.Header.Get("X-Amz-Security-Token") != ""

	s.mu.Lock()
	fedOff := s.fedOff
	s.mu.Unlock()
	if fedOff {
		stsWriteModelled(w, "OutboundWebIdentityFederationDisabledException",
			"Outbound web identity federation is disabled for this account. Enable it with the IAM EnableOutboundWebIdentityFederation API or in the IAM console.")
		return
	}
	if denied := s.denied(req); denied != "" {
		stsWriteError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf(
			"User: %s is not authorized to perform: sts:GetWebIdentityToken on resource: * because no identity-based policy allows the sts:GetWebIdentityToken action (%s)",
			s.sessionARN(), denied))
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	exp := now.Add(time.Duration(req.DurationSeconds) * time.Second)
	if !s.sessionExpiry.IsZero() && exp.After(s.sessionExpiry) {
		stsWriteModelled(w, "SessionDurationEscalationException", fmt.Sprintf(
			"The requested token duration of %d seconds would extend the session beyond its expiration at %s",
			req.DurationSeconds, s.sessionExpiry.UTC().Format(time.RFC3339)))
		return
	}
	tok := s.mint(req, now, exp)
	note(w, func(q *Request) { q.Token = tok })

	var out bytes.Buffer
	out.WriteString(`<GetWebIdentityTokenResponse xmlns="` + stsNamespace + `">` + "\n  <GetWebIdentityTokenResult>\n    <WebIdentityToken>")
	_ = xml.EscapeText(&out, []byte(tok))
	out.WriteString("</WebIdentityToken>\n    <Expiration>" + exp.Format(time.RFC3339) + "</Expiration>\n  </GetWebIdentityTokenResult>\n")
	id := newGUID()
	out.WriteString("  <ResponseMetadata>\n    <RequestId>" + id + "</RequestId>\n  </ResponseMetadata>\n</GetWebIdentityTokenResponse>\n")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// authenticate checks the SigV4 Authorization header the way STS does:
// present, well formed, scoped to this endpoint's region and to "sts",
// dated within 15 minutes, from an accepted key, and (with a configured
// secret) carrying the right signature. It returns an error code, message
// and status when the request is refused.
func (s *STS) authenticate(r *http.Request, body []byte) (akid, region, code, msg string, status int) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", "", "MissingAuthenticationToken", "Request is missing Authentication Token", http.StatusForbidden
	}
	m := stsAuthHeader.FindStringSubmatch(auth)
	if m == nil {
		return "", "", "IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters for AWS4-HMAC-SHA256", http.StatusBadRequest
	}
	akid, day, region, service, signed, sig := m[1], m[2], m[3], m[4], m[5], m[6]
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "", "", "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header", http.StatusBadRequest
	}
	headers := strings.Split(signed, ";")
	if !slices.Contains(headers, "host") || !slices.Contains(headers, "x-amz-date") {
		return "", "", "SignatureDoesNotMatch", "Signed headers must include host and x-amz-date", http.StatusForbidden
	}
	if day != t.Format("20060102") {
		return "", "", "SignatureDoesNotMatch", fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'", day, t.Format("20060102")), http.StatusForbidden
	}
	if service != "sts" {
		return "", "", "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. ", http.StatusForbidden
	}
	if region != s.Region {
		return "", "", "SignatureDoesNotMatch", fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", region), http.StatusForbidden
	}
	if d := time.Since(t); d > 15*time.Minute || d < -15*time.Minute {
		return "", "", "SignatureDoesNotMatch", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, time.Now().UTC().Add(-15*time.Minute).Format("20060102T150405Z"), time.Now().UTC().Format("20060102T150405Z")), http.StatusForbidden
	}
	if s.akid != "" && akid != s.akid {
		return "", "", "InvalidClientTokenId", "The security token included in the request is invalid.", http.StatusForbidden
	}
	if s.secret != "" && !s.verifySignature(r, body, akid, region, t, headers, sig) {
		return "", "", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", http.StatusForbidden
	}
	return akid, region, "", "", 0
}

// verifySignature recomputes the request's AWS Signature Version 4 with
// the configured secret, as the service does, and compares it with sig in
// constant time. It is written on the standard library (canonical request,
// string to sign, HMAC-SHA256 key derivation) so the emulator does not need
// the AWS SDK; the aws package's tests exercise it with the SDK's signer.
func (s *STS) verifySignature(r *http.Request, body []byte, akid, region string, t time.Time, headers []string, sig string) bool {
	_ = akid // the key ID is in the scope, which is checked before
	want := sigV4(s.secret, region, "sts", t, sigV4CanonicalRequest(r, body, headers))
	got, err := hex.DecodeString(sig)
	return err == nil && hmac.Equal(want, got)
}

// sigV4CanonicalRequest builds the SigV4 canonical request of r for the
// signed headers (lower case, sorted, as in the Authorization header).
func sigV4CanonicalRequest(r *http.Request, body []byte, headers []string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	// Services other than S3 encode each path segment twice: the SDK
	// escapes the already escaped path.
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(sigV4Escape(path, false) + "\n")
	b.WriteString(strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20") + "\n")
	for _, h := range headers {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.Itoa(len(body))}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	b.WriteString("\n" + strings.Join(headers, ";") + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	b.WriteString(payload)
	return b.String()
}

// sigV4 signs a canonical request: the string to sign names the
// algorithm, the time, the credential scope and the canonical request's
// hash; the key is derived from the secret by chained HMAC-SHA256 over
// the date, region, service and "aws4_request".
func sigV4(secret, region, service string, t time.Time, canonical string) []byte {
	day := t.UTC().Format("20060102")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + t.UTC().Format("20060102T150405Z") + "\n" +
		day + "/" + region + "/" + service + "/aws4_request\n" + hex.EncodeToString(sum[:])
	k := []byte("AWS4" + secret)
	for _, part := range []string{day, region, service, "aws4_request", toSign} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	return k
}

// sigV4Escape percent-encodes s as SigV4 requires (RFC 3986: everything
// but A-Z a-z 0-9 - _ . ~), keeping '/' unless encodeSlash.
func sigV4Escape(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// stsParse reads and validates the operation's parameters, collecting
// every violation as the real service's validation layer does.
func stsParse(form url.Values) (stsRequest, []string) {
	var errs []string
	req := stsRequest{DurationSeconds: 300}
	auds := map[int]string{}
	tags := map[int]*[2]*string{}
	for k, vs := range form {
		v := vs[0]
		m := stsMemberIndex.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		switch {
		case m[1] == "Audience" && m[3] == "":
			auds[n] = v
		case m[1] == "Tags" && m[3] != "":
			if tags[n] == nil {
				tags[n] = &[2]*string{}
			}
			if m[3] == ".Key" {
				tags[n][0] = &v
			} else {
				tags[n][1] = &v
			}
		}
	}
	// Members must be numbered 1..N without gaps, or the list is cut at
	// the first gap as the awsquery deserializer does.
	for i := 1; ; i++ {
		a, ok := auds[i]
		if !ok {
			break
		}
		req.Audiences = append(req.Audiences, a)
	}
	switch {
	case len(req.Audiences) == 0:
		errs = append(errs, "Value null at 'audience' failed to satisfy constraint: Member must not be null")
	case len(req.Audiences) > 10:
		errs = append(errs, fmt.Sprintf("Value '%v' at 'audience' failed to satisfy constraint: Member must have length less than or equal to 10", req.Audiences))
	}
	for i, a := range req.Audiences {
		if n := utf8.RuneCountInString(a); n < 1 || n > 1000 {
			errs = append(errs, fmt.Sprintf("Value '%s' at 'audience.%d.member' failed to satisfy constraint: Member must have length between 1 and 1000", a, i+1))
		}
	}
	// The model constrains jwtAlgorithmType to 5 characters only; its
	// documentation names the two values STS accepts.
	alg, algSet := form["SigningAlgorithm"]
	switch {
	case !algSet:
		errs = append(errs, "Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null")
	case utf8.RuneCountInString(alg[0]) != 5:
		errs = append(errs, fmt.Sprintf("Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must have length between 5 and 5", alg[0]))
	case alg[0] != "RS256" && alg[0] != "ES384":
		errs = append(errs, fmt.Sprintf("Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RS256, ES384]", alg[0]))
	default:
		req.SigningAlgorithm = alg[0]
	}
	if d, ok := form["DurationSeconds"]; ok {
		n, err := strconv.Atoi(d[0])
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", d[0]))
		case n < 60:
			errs = append(errs, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60", n))
		case n > 3600:
			errs = append(errs, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600", n))
		default:
			req.DurationSeconds = n
		}
	}
	if len(tags) > 50 {
		errs = append(errs, fmt.Sprintf("Value with %d tags at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50", len(tags)))
	}
	for i := 1; i <= len(tags); i++ {
		kv, ok := tags[i]
		if !ok {
			errs = append(errs, fmt.Sprintf("Value null at 'tags.%d.member' failed to satisfy constraint: Member must not be null", i))
			continue
		}
		switch {
		case kv[0] == nil:
			errs = append(errs, fmt.Sprintf("Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", i))
		case utf8.RuneCountInString(*kv[0]) > 128 || !stsTagKey.MatchString(*kv[0]):
			errs = append(errs, fmt.Sprintf("Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", *kv[0], i))
		}
		switch {
		case kv[1] == nil:
			errs = append(errs, fmt.Sprintf("Value null at 'tags.%d.member.value' failed to satisfy constraint: Member must not be null", i))
		case utf8.RuneCountInString(*kv[1]) > 256 || !stsTagValue.MatchString(*kv[1]):
			errs = append(errs, fmt.Sprintf("Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", *kv[1], i))
		}
		if kv[0] != nil && kv[1] != nil {
			if req.Tags == nil {
				req.Tags = map[string]string{}
			}
			if _, dup := req.Tags[*kv[0]]; dup {
				errs = append(errs, fmt.Sprintf("Duplicate tag key '%s'", *kv[0]))
			}
			req.Tags[*kv[0]] = *kv[1]
		}
	}
	return req, append(errs, stsParseModes(form, len(req.Audiences), len(tags))...)
}

// stsParseModes checks SubjectMode, TokenType and Scope: their value sets
// and pattern, and the rules between them the model's documentation
// states (TokenType excludes SubjectMode and Scope; a JWT_SVID has exactly
// one audience and no tags; Scope needs SubjectMode OriginIdentity and
// exactly one audience, and repeats no value).
func stsParseModes(form url.Values, audiences, tags int) []string {
	var errs []string
	enum := func(member, field string, values ...string) (string, bool) {
		v, ok := form[member]
		if ok && !slices.Contains(values, v[0]) {
			errs = append(errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v[0], field, strings.Join(values, ", ")))
		}
		if !ok {
			return "", false
		}
		return v[0], true
	}
	mode, modeSet := enum("SubjectMode", "subjectMode", "AWSIdentity", "OriginIdentity")
	typ, typeSet := enum("TokenType", "tokenType", "AWSIdentity", "JWT_SVID")
	scope, scopeSet := form["Scope"]
	if scopeSet {
		switch n := utf8.RuneCountInString(scope[0]); {
		case n < 1 || n > 256 || !stsScope.MatchString(scope[0]):
			errs = append(errs, fmt.Sprintf("Value '%s' at 'scope' failed to satisfy constraint: Member must have length between 1 and 256 and satisfy regular expression pattern: %s", scope[0], strings.Trim(stsScope.String(), "^$")))
		default:
			values := strings.Split(scope[0], " ")
			slices.Sort(values)
			if len(slices.Compact(values)) != len(strings.Split(scope[0], " ")) {
				errs = append(errs, fmt.Sprintf("Scope '%s' repeats a value", scope[0]))
			}
		}
	}
	if typeSet && (modeSet || scopeSet) {
		errs = append(errs, "TokenType cannot be specified with SubjectMode or Scope")
	}
	if typ == "JWT_SVID" && audiences != 1 {
		errs = append(errs, "TokenType JWT_SVID requires exactly one Audience")
	}
	if typ == "JWT_SVID" && tags > 0 {
		errs = append(errs, "TokenType JWT_SVID cannot be specified with Tags")
	}
	if scopeSet && !typeSet && (mode != "OriginIdentity" || audiences != 1) {
		errs = append(errs, "Scope requires SubjectMode OriginIdentity and exactly one Audience")
	}
	return errs
}

func stsValidationMessage(errs []string) string {
	if len(errs) == 1 {
		return "1 validation error detected: " + errs[0]
	}
	return fmt.Sprintf("%d validation errors detected: %s", len(errs), strings.Join(errs, "; "))
}

// denied evaluates the emulated IAM policy conditions, returning why the
// request is not allowed, or "".
func (s *STS) denied(req stsRequest) string {
	if len(s.allowed) > 0 {
		for _, a := range req.Audiences {
			if !slices.Contains(s.allowed, a) {
				return fmt.Sprintf("the condition sts:IdentityTokenAudience does not allow %q", a)
			}
		}
	}
	if s.maxDuration > 0 && req.DurationSeconds > s.maxDuration {
		return fmt.Sprintf("the condition sts:DurationSeconds <= %d does not allow %d", s.maxDuration, req.DurationSeconds)
	}
	return ""
}

// sessionARN is the caller as STS names it in AccessDenied messages.
func (s *STS) sessionARN() string {
	m := stsRoleARN.FindStringSubmatch(s.RoleARN)
	name := s.RoleARN[strings.LastIndex(s.RoleARN, "/")+1:]
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/session", m[1], name)
}

// mint signs the token with the issuer for the requested algorithm, with
// the claims of IAM's published sample token (id_roles_providers_outbound_
// token_claims): iss, aud (a string for one), sub (the role ARN), iat, exp,
// jti, and AWS context under "https://sts.amazonaws.com/" (aws_account,
// source_region, principal_id, request_tags; the service model documents
// principal_id as the requesting role's ARN). No nbf: AWS's tokens carry
// none.
func (s *STS) mint(req stsRequest, now, exp time.Time) string {
	var aud any = req.Audiences
	if len(req.Audiences) == 1 {
		aud = req.Audiences[0]
	}
	ctx := map[string]any{
		"aws_account":   stsRoleARN.FindStringSubmatch(s.RoleARN)[1],
		"source_region": req.Region,
		"principal_id":  s.RoleARN,
	}
	if len(req.Tags) > 0 {
		ctx["request_tags"] = req.Tags
	}
	claims := map[string]any{
		"iss": s.IssuerURL, "sub": s.RoleARN, "aud": aud,
		"iat": now.Unix(), "exp": exp.Unix(),
		"jti":                        randomB64URL(16),
		"https://sts.amazonaws.com/": ctx,
	}
	return s.Issuer(req.SigningAlgorithm).Sign(claims)
}

func (s *STS) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	keys := append(s.rs.jwks(), s.es.jwks()...)
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (s *STS) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.URL,
		"jwks_uri":                              s.JWKSURL,
		"id_token_signing_alg_values_supported": []string{"RS256", "ES384"},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"claims_supported":                      []string{"aud", "exp", "iat", "iss", "sub", "jti", "https://sts.amazonaws.com/"},
	})
}

func stsFaultType(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func stsErrorXML(typ, code, message, id string) string {
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + stsNamespace + `">` + "\n  <Error>\n    <Type>" + typ + "</Type>\n    <Code>")
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code>\n    <Message>")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("</Message>\n  </Error>\n  <RequestId>" + id + "</RequestId>\n</ErrorResponse>\n")
	return b.String()
}

func stsWriteError(w http.ResponseWriter, status int, code, message string) {
	noteError(w, code)
	id := newGUID()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, stsErrorXML(stsFaultType(status), code, message, id))
}
