package idptest

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file hold the STS emulator to AWS's published service
// model of GetWebIdentityToken (testdata/sts-GetWebIdentityToken.json, the
// operation's part of botocore's data/sts/2011-06-15/service-2.json): the
// limits are read from the model, not restated.

type stsModel struct {
	Operation struct {
		Output struct {
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
		Errors []struct {
			Shape string `json:"shape"`
		} `json:"errors"`
	} `json:"operation"`
	Shapes map[string]struct {
		Type     string   `json:"type"`
		Required []string `json:"required"`
		Min      *int     `json:"min"`
		Max      *int     `json:"max"`
		Enum     []string `json:"enum"`
		Members  map[string]struct {
			Shape string `json:"shape"`
		} `json:"members"`
		Error struct {
			Code           string `json:"code"`
			HTTPStatusCode int    `json:"httpStatusCode"`
		} `json:"error"`
	} `json:"shapes"`
}

func loadSTSModel(t *testing.T) stsModel {
	t.Helper()
	raw, err := os.ReadFile("testdata/sts-GetWebIdentityToken.json")
	require.NoError(t, err)
	var m stsModel
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// bound returns the model's min or max of a shape.
func (m stsModel) bound(t *testing.T, shape string, max bool) int {
	t.Helper()
	s, ok := m.Shapes[shape]
	require.True(t, ok, "shape %s", shape)
	p := s.Min
	if max {
		p = s.Max
	}
	require.NotNil(t, p, "shape %s has the bound", shape)
	return *p
}

// TestSTSErrorsMatchTheServiceModel: every error the model lists for the
// operation is in the emulator's table with the model's code and status,
// and the table has no other. Failed before the change: the emulator
// answered OutboundWebIdentityFederationDisabledException and
// SessionDurationEscalationException with 400 (the model says 403) and
// did not know SignerNotConfiguredException or
// RegionalSignerUnavailableException.
func TestSTSErrorsMatchTheServiceModel(t *testing.T) {
	m := loadSTSModel(t)
	want := map[string]int{}
	for _, e := range m.Operation.Errors {
		s := m.Shapes[e.Shape]
		require.NotZero(t, s.Error.HTTPStatusCode, e.Shape)
		want[s.Error.Code] = s.Error.HTTPStatusCode
	}
	assert.Equal(t, want, stsModelledErrors)
}

// TestSTSValidatesAsTheServiceModel sends requests at and past each
// limit of the model through the emulator's HTTP endpoint: what the model
// allows is answered 200, what it forbids 400 ValidationError.
func TestSTSValidatesAsTheServiceModel(t *testing.T) {
	m := loadSTSModel(t)
	req := m.Shapes["GetWebIdentityTokenRequest"]
	assert.ElementsMatch(t, []string{"Audience", "SigningAlgorithm"}, req.Required)
	shape := func(member string) string { return req.Members[member].Shape }
	maxAudiences := m.bound(t, shape("Audience"), true)
	maxAudience := m.bound(t, "webIdentityTokenAudienceStringType", true)
	minDuration, maxDuration := m.bound(t, shape("DurationSeconds"), false), m.bound(t, shape("DurationSeconds"), true)
	maxTags := m.bound(t, shape("Tags"), true)
	maxKey, maxValue := m.bound(t, "tagKeyType", true), m.bound(t, "tagValueType", true)
	maxScope := m.bound(t, shape("Scope"), true)
	algLen := m.bound(t, shape("SigningAlgorithm"), true)
	require.Equal(t, algLen, m.bound(t, shape("SigningAlgorithm"), false))
	assert.Equal(t, []string{"AWSIdentity", "OriginIdentity"}, m.Shapes[shape("SubjectMode")].Enum)
	assert.Equal(t, []string{"AWSIdentity", "JWT_SVID"}, m.Shapes[shape("TokenType")].Enum)

	audiences := func(n int, value string) func(url.Values) {
		return func(v url.Values) {
			v.Del("Audience.member.1")
			for i := 1; i <= n; i++ {
				v.Set("Audience.member."+strconv.Itoa(i), value)
			}
		}
	}
	tags := func(n int, key, value string) func(url.Values) {
		return func(v url.Values) {
			for i := 1; i <= n; i++ {
				k := key
				if n > 1 {
					k += strconv.Itoa(i)
				}
				v.Set("Tags.member."+strconv.Itoa(i)+".Key", k)
				v.Set("Tags.member."+strconv.Itoa(i)+".Value", value)
			}
		}
	}
	set := func(kv ...string) func(url.Values) {
		return func(v url.Values) {
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
		}
	}
	long := func(n int) string { return strings.Repeat("é", n) } // n characters, 2n bytes
	e := NewSTS(t, nil)
	for name, tc := range map[string]struct {
		change   func(url.Values)
		status   int
		code     string
		contains string
	}{
		"at most audiences":        {change: audiences(maxAudiences, "k"), status: 200},
		"too many audiences":       {change: audiences(maxAudiences+1, "k"), status: 400, contains: "'audience'"},
		"longest audience":         {change: audiences(1, long(maxAudience)), status: 200},
		"audience too long":        {change: audiences(1, long(maxAudience+1)), status: 400, contains: "audience.1.member"},
		"empty audience":           {change: audiences(1, ""), status: 400, contains: "audience.1.member"},
		"shortest duration":        {change: set("DurationSeconds", strconv.Itoa(minDuration)), status: 200},
		"duration too short":       {change: set("DurationSeconds", strconv.Itoa(minDuration-1)), status: 400, contains: "durationSeconds"},
		"longest duration":         {change: set("DurationSeconds", strconv.Itoa(maxDuration)), status: 200},
		"duration too long":        {change: set("DurationSeconds", strconv.Itoa(maxDuration+1)), status: 400, contains: "durationSeconds"},
		"ES384":                    {change: set("SigningAlgorithm", "ES384"), status: 200},
		"algorithm of another len": {change: set("SigningAlgorithm", strings.Repeat("R", algLen+1)), status: 400, contains: "length between 5 and 5"},
		"unknown algorithm":        {change: set("SigningAlgorithm", "HS256"), status: 400, contains: "[RS256, ES384]"},
		"at most tags":             {change: tags(maxTags, "k", "v"), status: 200},
		"too many tags":            {change: tags(maxTags+1, "k", "v"), status: 400, contains: "'tags'"},
		"longest tag key, value":   {change: tags(1, long(maxKey), long(maxValue)), status: 200},
		"tag key too long":         {change: tags(1, long(maxKey+1), "v"), status: 400, contains: "tags.1.member.key"},
		"tag value too long":       {change: tags(1, "k", long(maxValue+1)), status: 400, contains: "tags.1.member.value"},
		"empty tag value":          {change: tags(1, "k", ""), status: 200},
		"tag key with a comma":     {change: tags(1, "a,b", "v"), status: 400, contains: "tags.1.member.key"},
		"explicit AWSIdentity":     {change: set("SubjectMode", "AWSIdentity", "TokenType", "AWSIdentity"), status: 400, contains: "TokenType cannot be specified with SubjectMode"},
		"subject mode alone":       {change: set("SubjectMode", "AWSIdentity"), status: 200},
		"token type alone":         {change: set("TokenType", "AWSIdentity"), status: 200},
		"unknown subject mode":     {change: set("SubjectMode", "Role"), status: 400, contains: "subjectMode"},
		"unknown token type":       {change: set("TokenType", "SAML"), status: 400, contains: "tokenType"},
		"JWT_SVID with two audiences": {change: func(v url.Values) { audiences(2, "k")(v); v.Set("TokenType", "JWT_SVID") },
			status: 400, contains: "exactly one Audience"},
		"JWT_SVID with tags": {change: func(v url.Values) { tags(1, "k", "v")(v); v.Set("TokenType", "JWT_SVID") },
			status: 400, contains: "cannot be specified with Tags"},
		"JWT_SVID without a workload identity": {change: set("TokenType", "JWT_SVID"), status: 404, code: "SignerNotConfiguredException"},
		"OriginIdentity without a context":     {change: set("SubjectMode", "OriginIdentity"), status: 400, contains: "aws:OriginIdentity/Subject"},
		"scope without OriginIdentity":         {change: set("Scope", "read"), status: 400, contains: "Scope requires SubjectMode OriginIdentity"},
		"scope with TokenType":                 {change: set("Scope", "read", "TokenType", "JWT_SVID"), status: 400, contains: "TokenType cannot be specified"},
		"scope too long":                       {change: set("SubjectMode", "OriginIdentity", "Scope", strings.Repeat("s", maxScope+1)), status: 400, contains: "'scope'"},
		"scope with a double space":            {change: set("SubjectMode", "OriginIdentity", "Scope", "read  write"), status: 400, contains: "'scope'"},
		"scope with a quote":                   {change: set("SubjectMode", "OriginIdentity", "Scope", `re"ad`), status: 400, contains: "'scope'"},
		"scope repeating a value":              {change: set("SubjectMode", "OriginIdentity", "Scope", "read write read"), status: 400, contains: "repeats a value"},
		"longest valid scope":                  {change: set("SubjectMode", "OriginIdentity", "Scope", strings.Repeat("s", maxScope)), status: 400, contains: "aws:OriginIdentity/Subject"},
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"Action": {"GetWebIdentityToken"}, "Version": {stsAPIVersion},
				"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"RS256"}}
			tc.change(form)
			status, code, msg := stsPost(t, e, form)
			require.Equal(t, tc.status, status, "%s: %s", code, msg)
			if tc.status == http.StatusOK {
				return
			}
			if tc.code == "" {
				tc.code = "ValidationError"
			}
			assert.Equal(t, tc.code, code)
			assert.Contains(t, msg, tc.contains)
		})
	}
}

// TestSTSModelledErrorStatuses: the refusals the emulator plays answer
// with the code and status the model gives them. Failed before the change
// (400 for both).
func TestSTSModelledErrorStatuses(t *testing.T) {
	form := url.Values{"Action": {"GetWebIdentityToken"}, "Version": {stsAPIVersion},
		"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"RS256"}, "DurationSeconds": {"3600"}}
	off := NewSTS(t, &STSOptions{FederationDisabled: true})
	status, code, _ := stsPost(t, off, form)
	assert.Equal(t, "OutboundWebIdentityFederationDisabledException", code)
	assert.Equal(t, http.StatusForbidden, status)

	short := NewSTS(t, &STSOptions{SessionExpiry: time.Now().Add(10 * time.Minute)})
	status, code, _ = stsPost(t, short, form)
	assert.Equal(t, "SessionDurationEscalationException", code)
	assert.Equal(t, http.StatusForbidden, status)
}

// TestSTSReplyHasTheModelledShape: the reply is the output shape in its
// result wrapper, with the model's members.
func TestSTSReplyHasTheModelledShape(t *testing.T) {
	m := loadSTSModel(t)
	assert.Equal(t, "GetWebIdentityTokenResult", m.Operation.Output.ResultWrapper)
	members := m.Shapes["GetWebIdentityTokenResponse"].Members
	assert.Len(t, members, 2)
	assert.Contains(t, members, "WebIdentityToken")
	assert.Contains(t, members, "Expiration")

	e := NewSTS(t, nil)
	raw := stsPostRaw(t, e, url.Values{"Action": {"GetWebIdentityToken"}, "Version": {stsAPIVersion},
		"Audience.member.1": {"kafka"}, "SigningAlgorithm": {"RS256"}})
	var doc struct {
		XMLName xml.Name `xml:"GetWebIdentityTokenResponse"`
		Result  struct {
			WebIdentityToken string
			Expiration       time.Time
		} `xml:"GetWebIdentityTokenResult"`
	}
	require.NoError(t, xml.Unmarshal(raw, &doc), "%s", raw)
	assert.Equal(t, stsNamespace, doc.XMLName.Space)
	assert.NotEmpty(t, doc.Result.WebIdentityToken)
	assert.WithinDuration(t, time.Now().Add(300*time.Second), doc.Result.Expiration, time.Minute, "the default duration is 300 seconds")
}

// stsPost sends form to the emulator with a structurally valid SigV4
// header (the emulator has no secret, so the signature is not
// recomputed) and returns the status and the error's code and message.
func stsPost(t *testing.T, e *STS, form url.Values) (status int, code, message string) {
	t.Helper()
	resp := stsDo(t, e, form)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", ""
	}
	var doc struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, xml.Unmarshal(raw, &doc), "%s", raw)
	return resp.StatusCode, doc.Error.Code, doc.Error.Message
}

func stsPostRaw(t *testing.T, e *STS, form url.Values) []byte {
	t.Helper()
	resp := stsDo(t, e, form)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	return raw
}

func stsDo(t *testing.T, e *STS, form url.Values) *http.Response {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	now := time.Now().UTC()
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+now.Format("20060102")+"/"+e.Region+
		"/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="+strings.Repeat("0", 64))
	resp, err := e.Client().Do(r)
	require.NoError(t, err)
	return resp
}
