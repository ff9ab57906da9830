package fetchrec_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/fetchrec"
)

const (
	secret    = "opaque-client-secret-value-42"
	subject   = "opaque-subject-token-value-7"
	secToken  = "session-token-abcdefgh-1234"
	identHdr  = "app-service-identity-header-9"
	publicAud = "api://kafka-cluster"
)

func TestSecretsOfARequest(t *testing.T) {
	t.Parallel()
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
		"subject_token": {subject}, "client_secret": {secret}, "audience": {publicAud}, "scope": {"kafka"},
	}
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, "https://idp.example/token?key=query-key-value-1", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("client", "p@ss word+basic")
	req.Header.Set("X-Amz-Security-Token", secToken)
	req.Header.Set("X-Identity-Header", identHdr)
	req.Header.Set("Accept", "application/json")
	got := fetchrec.Secrets(req, body)
	for _, want := range []string{subject, secret, secToken, identHdr, "p@ss word+basic", "query-key-value-1", req.Header.Get("Authorization")} {
		assert.Contains(t, got, want)
	}
	for _, public := range []string{publicAud, "kafka", "application/json", "urn:ietf:params:oauth:token-type:jwt"} {
		assert.NotContains(t, got, public, "settings are not secrets; removing them would garble messages")
	}
}

func TestSecretsOfAJSONBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"assertion":"` + subject + `","lifetime":"3600s","delegates":[]}`)
	req, err := http.NewRequest(http.MethodPost, "https://iam.example/x", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	assert.Equal(t, []string{subject}, fetchrec.Secrets(req, body))
}

func TestRecordNeedsARecorder(t *testing.T) {
	t.Parallel()
	fetchrec.Record(context.Background(), secret) // no recorder: nothing, no panic
	var nilRec *fetchrec.Recorder
	nilRec.Add(secret)
	assert.Nil(t, nilRec.Values())

	r := fetchrec.New()
	ctx := fetchrec.With(context.Background(), r)
	fetchrec.Record(ctx, secret, "abc", secret)
	assert.Equal(t, []string{secret}, r.Values(), "short values are ignored, duplicates recorded once")
	assert.Same(t, r, fetchrec.From(ctx))
}

// TestErrorScrubsEveryEncoding: a library's error that quotes the reply
// of a server echoing the request, in any of the encodings servers use.
func TestErrorScrubsEveryEncoding(t *testing.T) {
	t.Parallel()
	r := fetchrec.New()
	r.Add(secret)
	cause := fs.ErrNotExist
	for _, echo := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
		err := fetchrec.Error(&wrapped{msg: "oauth2: cannot fetch token: 400\nResponse: {\"error\":\"" + echo + "\"}\x1b[31m", err: cause}, r, "held-token-value-xyz")
		assert.NotContains(t, err.Error(), echo)
		assert.NotContains(t, err.Error(), "\x1b")
		assert.NotContains(t, err.Error(), "\n")
		assert.ErrorIs(t, err, fs.ErrNotExist, "the chain is kept")
		assert.Nil(t, errors.Unwrap(err), "sealed: no Unwrap to the raw chain")
	}
	err := fetchrec.Error(errors.New("presented held-token-value-xyz"), nil, "held-token-value-xyz")
	assert.Equal(t, "presented [redacted]", err.Error())
	assert.NoError(t, fetchrec.Error(nil, r))
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

type stringer string

func (s stringer) String() string { return string(s) }

func TestHandlerScrubsRecords(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := fetchrec.Logger(slog.New(slog.NewTextHandler(&buf, nil)))
	assert.Same(t, l, fetchrec.Logger(l), "wrapping twice is wrapping once")
	assert.Nil(t, fetchrec.Logger(nil))
	r := fetchrec.New()
	r.Add(secret)
	ctx := fetchrec.With(context.Background(), r)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	l.With("pre", "x "+jwt).WarnContext(ctx, "echo "+secret+"\r\nforged line",
		"error", errors.New("quoted "+secret), "str", secret, "bytes", []byte(secret), "stringer", stringer(secret),
		slog.Group("g", "inner", secret), "n", 3)
	out := buf.String()
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, jwt)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one record, one line: %s", out)
	assert.Contains(t, out, "n=3")
	assert.Contains(t, out, "g.inner=[redacted]")
}
