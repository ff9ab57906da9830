package oauthbearertest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// TestNewBrokerBindsLoopbackAndClosesAtCleanup: the brokers listen on
// 127.0.0.1 only, and NewBroker registers Close with the TB, so the
// broker stops when the test's cleanups run.
func TestNewBrokerBindsLoopbackAndClosesAtCleanup(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	tb := &faketb.Recorder{}
	b := oauthbearertest.NewBroker(tb, &oauthbearertest.BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, NumBrokers: 2})
	require.NotNil(t, b)
	require.Empty(t, tb.Fatal)
	require.Len(t, b.Addrs(), 2)
	for _, a := range b.Addrs() {
		assert.True(t, strings.HasPrefix(a, "127.0.0.1:"), a)
	}
	require.Len(t, tb.Cleanups, 1, "NewBroker registers Close")
	tb.Cleanups[0]()
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
			tb := &faketb.Recorder{}
			assert.Nil(t, oauthbearertest.NewBroker(tb, tc.opts))
			assert.Contains(t, tb.Fatal, tc.want)
			assert.Empty(t, tb.Cleanups)
		})
	}
}
