package oauthbearertest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestNewBrokerBindsLoopbackAndClosesAtCleanup: the brokers listen on
// 127.0.0.1 only, and NewBroker registers Close with the TB, so the
// broker stops when the test's cleanups run.
func TestNewBrokerBindsLoopbackAndClosesAtCleanup(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	tb := &recordingTB{}
	b := oauthbearertest.NewBroker(tb, &oauthbearertest.BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, NumBrokers: 2})
	require.NotNil(t, b)
	require.Empty(t, tb.fatal)
	require.Len(t, b.Addrs(), 2)
	for _, a := range b.Addrs() {
		assert.True(t, strings.HasPrefix(a, "127.0.0.1:"), a)
	}
	require.Len(t, tb.cleanups, 1, "NewBroker registers Close")
	tb.cleanups[0]()
	b.Close() // idempotent after the cleanup
}

// TestNewBrokerFailsOnBadOptions: invalid options fail the test through
// Fatalf, naming the setting, and register nothing to clean up.
func TestNewBrokerFailsOnBadOptions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		opts *oauthbearertest.BrokerOptions
		want string
	}{
		"nil options":       {nil, "oauthbearertest: NewBroker needs BrokerOptions with JWKSURL, Issuer or GoogleAccessTokens"},
		"no audience":       {&oauthbearertest.BrokerOptions{JWKSURL: "http://127.0.0.1:1/jwks", ExpectedIssuer: "i"}, "BrokerOptions.ExpectedAudience is empty"},
		"negative reauth":   {&oauthbearertest.BrokerOptions{JWKSURL: "http://127.0.0.1:1/jwks", ExpectedIssuer: "i", ExpectedAudience: "a", MaxReauth: -1}, "BrokerOptions.MaxReauth is -1ns"},
		"negative brokers":  {&oauthbearertest.BrokerOptions{JWKSURL: "http://127.0.0.1:1/jwks", ExpectedIssuer: "i", ExpectedAudience: "a", NumBrokers: -1}, "BrokerOptions.NumBrokers is -1"},
		"both audience ops": {&oauthbearertest.BrokerOptions{JWKSURL: "http://127.0.0.1:1/jwks", ExpectedIssuer: "i", AllowUnverifiedAudience: true, RejectAudienceWhenUnset: true}, "pick one"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := &recordingTB{}
			assert.Nil(t, oauthbearertest.NewBroker(tb, tc.opts))
			assert.Contains(t, tb.fatal, tc.want)
			assert.Empty(t, tb.cleanups)
		})
	}
}

// recordingTB is an idptest.TB whose Fatalf records the message and
// returns, as a program's TB may.
type recordingTB struct {
	fatal    string
	cleanups []func()
}

func (*recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
