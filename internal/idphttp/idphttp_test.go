package idphttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestDefaultClient(t *testing.T) {
	t.Parallel()
	c := Client(nil, "x")
	assert.Equal(t, DefaultTimeout, c.Timeout)
	require.True(t, Gated(c), "every request passes the credential gate")
	tr, ok := Base(c).(*http.Transport)
	require.True(t, ok)
	assert.True(t, tr.DisableKeepAlives, "no idle connection outlives a source")
	assert.NotNil(t, c.CheckRedirect)
}

func TestClientCopiesTheCallers(t *testing.T) {
	t.Parallel()
	mine := &http.Client{Timeout: 7}
	c := Client(mine, "x")
	assert.NotSame(t, mine, c)
	assert.Nil(t, mine.CheckRedirect, "the caller's client is not modified")
	assert.Equal(t, mine.Timeout, c.Timeout)
}

// TestDoReportsUnfollowedRedirects: a client that returns a 3xx without
// following it (the AWS SDK's for 301/302, Go's for a 307 whose body it
// cannot replay) gives the same error as a refused redirect.
func TestDoReportsUnfollowedRedirects(t *testing.T) {
	t.Parallel()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://u:p@elsewhere.test:8443/x?secret=1", http.StatusFound)
	}))
	t.Cleanup(s.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/token?q=1", nil)
	require.NoError(t, err)
	resp, err := Do(noFollow, "src", req)
	assert.Nil(t, resp)
	var re *RedirectError
	require.True(t, errors.As(err, &re))
	assert.ErrorIs(t, err, oauthbearer.ErrRedirectRefused)
	assert.Equal(t, RedirectError{Source: "src", Endpoint: s.URL + "/token", StatusCode: http.StatusFound, Location: "https://elsewhere.test:8443"}, *re)
	assert.NotContains(t, err.Error(), "secret=1")
	assert.NotContains(t, err.Error(), "u:p")
}

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://idp.example.com/token": true, "http://127.0.0.1:8080/t": true, "http://localhost/t": true, "http://[::1]:1/t": true,
		"http://idp.example.com/token": false, "http://10.0.0.1/t": false, "ftp://idp.example.com": false, "/relative": false,
	} {
		err := CheckEndpoint("src", "Opt.URL", raw)
		if ok {
			assert.NoError(t, err, raw)
			continue
		}
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), "src: Opt.URL is ")
	}
}
