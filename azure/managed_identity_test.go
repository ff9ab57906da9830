package azure_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

func TestManagedIdentitySelectors(t *testing.T) {
	t.Parallel()
	user := idptest.ManagedIdentity{ClientID: "6f1c0000-0000-4000-8000-0000000000c1", ObjectID: "6f1c0000-0000-4000-8000-0000000000b1",
		ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kafka"}
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{UserAssigned: []idptest.ManagedIdentity{user}})
	tests := map[string]struct {
		id   azidentity.ManagedIDKind
		want idptest.ManagedIdentity
	}{
		"system assigned": {want: m.SystemAssigned},
		"by client ID":    {id: azidentity.ClientID(user.ClientID), want: user},
		"by resource ID":  {id: azidentity.ResourceID(user.ResourceID), want: user},
		"by object ID":    {id: azidentity.ObjectID(user.ObjectID), want: user},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var audience string
			src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) { o.ID, audience = tc.id, o.Audience })
			tok, err := src.Token(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, tc.want.ObjectID, tok.Principal)
			assert.WithinDuration(t, time.Now().Add(24*time.Hour), tok.Expiry, time.Minute)
			rep, err := azure.Diagnose(tok.Value)
			require.NoError(t, err)
			// A v2 token carries the API's application ID, resolved from
			// the resource as sent (the /.default suffix is not part of it).
			assert.Equal(t, m.AppID(audience), rep.Audience)
			assert.True(t, slices.ContainsFunc(m.Issued(), func(r idptest.Request) bool { return r.Resource == audience }),
				"the /.default suffix is not part of the IMDS resource")
			assert.Equal(t, tc.want.ClientID, rep.AppID)
		})
	}
}

func TestManagedIdentityUnknownIdentityIsPermanent(t *testing.T) {
	t.Parallel()
	src := newManagedIdentity(t, idptest.NewIMDS(t, nil), func(o *azure.ManagedIdentityOptions) {
		o.ID = azidentity.ClientID("0000aaaa-0000-4000-8000-000000000000")
	})
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.False(t, oauthbearer.IsTransient(err))
	var ae *azure.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Contains(t, err.Error(), `user-assigned identity with client ID "0000aaaa-0000-4000-8000-000000000000"`)
	assert.Contains(t, err.Error(), "Identity not found")
	assert.NotContains(t, err.Error(), "\n")
}

func TestManagedIdentityOptionErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts *azure.ManagedIdentityOptions
		want []string
	}{
		"nil options": {nil, []string{"Audience", "empty"}},
		"bad target":  {&azure.ManagedIdentityOptions{Audience: "kafka"}, []string{`Audience "kafka"`, "api://"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := azure.NewManagedIdentity(tc.opts)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "azure: "), err.Error())
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestManagedIdentityRidesOutIMDSUpgrade(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	// IMDS answers 410 while it upgrades; azidentity's retries (here with
	// millisecond delays) ride it out inside one fetch.
	m.FailNext(5, idptest.Fault{Status: http.StatusGone})
	tok, err := newManagedIdentity(t, m, nil).Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, m.SystemAssigned.ObjectID, tok.Principal)
	assert.Equal(t, 6, len(m.Requests()))
}

func TestManagedIdentityLongOutageIsTransientThenRecovers(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	m.FailNext(3, idptest.Fault{Status: http.StatusGone})
	src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) {
		o.Retry = policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
		o.Cache = &oauthbearer.CacheOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	})
	_, err := src.Token(ctx(t))
	require.Error(t, err)
	assert.True(t, oauthbearer.IsTransient(err), "410 past azidentity's retries must be transient: %v", err)
	var ae *azure.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusGone, ae.StatusCode)
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.Principal)
	assert.Equal(t, 4, len(m.Requests()))
}

func TestManagedIdentityThrottledWithRetryAfter(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	m.FailNext(1, idptest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
	// Retry-After above MaxRetryDelay makes azidentity give up at once and
	// leave the wait to the cache.
	_, err := newManagedIdentity(t, m, nil).Token(ctx(t))
	require.Error(t, err)
	var te *oauthbearer.TransientError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 7*time.Second, te.RetryAfter)
	var ae *azure.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTooManyRequests, ae.StatusCode)
	assert.Equal(t, 1, len(m.Requests()))
}

func TestManagedIdentityV1Tokens(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, &idptest.IMDSOptions{V1Tokens: true})
	t.Run("required v2 fails with the fix", func(t *testing.T) {
		t.Parallel()
		log, buf := newLogger()
		src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) {
			o.RequireV2, o.Cache = true, &oauthbearer.CacheOptions{Logger: log}
		})
		_, err := src.Token(ctx(t))
		require.Error(t, err)
		assert.ErrorIs(t, err, azure.ErrV1Token)
		assert.False(t, oauthbearer.IsTransient(err))
		assert.Contains(t, err.Error(), `ver="1.0"`)
		assert.Contains(t, err.Error(), "accessTokenAcceptedVersion")
		assert.Contains(t, err.Error(), "https://sts.windows.net/")
		for _, r := range m.Issued() {
			assertNoSecrets(t, err.Error()+buf.String(), r.Token)
		}
	})
	t.Run("otherwise a warning", func(t *testing.T) {
		t.Parallel()
		log, buf := newLogger()
		src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) { o.Cache = &oauthbearer.CacheOptions{Logger: log} })
		tok, err := src.Token(ctx(t))
		require.NoError(t, err)
		assert.NotEmpty(t, tok.Value)
		assert.Contains(t, buf.String(), "level=WARN")
		assert.Contains(t, buf.String(), "accessTokenAcceptedVersion")
		assertNoSecrets(t, buf.String(), tok.Value)
	})
}

func TestManagedIdentityOneRequestPerRefresh(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	m.FailNext(1, idptest.Fault{Latency: 50 * time.Millisecond})
	log, buf := newLogger()
	src := newManagedIdentity(t, m, func(o *azure.ManagedIdentityOptions) { o.Cache = &oauthbearer.CacheOptions{Logger: log} })
	tok := sameTokenForAll(t, src)
	assert.Equal(t, 1, len(m.Requests()))
	assertNoSecrets(t, buf.String(), tok.Value)
}

// azidentity's managed-identity cache is process-wide and would hand the
// rejected token back; Invalidate must make the next fetch reach IMDS.
func TestManagedIdentityInvalidateFetchesAFreshToken(t *testing.T) {
	t.Parallel()
	m := idptest.NewIMDS(t, nil)
	src := newManagedIdentity(t, m, nil)
	first, err := src.Token(ctx(t))
	require.NoError(t, err)
	require.True(t, oauthbearer.Invalidate(src, first))
	second, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.NotEqual(t, first.Value, second.Value, "the rejected token came back from azidentity's cache")
	assert.Equal(t, 2, len(m.Requests()))

	// Without an invalidation, the next fetch may use azidentity's cache
	// again: the bypass is one-shot.
	third, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, second.Value, third.Value)
	assert.Equal(t, 2, len(m.Requests()))
}

// credFunc adapts a function to azcore.TokenCredential.
type credFunc func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error)

func (f credFunc) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return f(ctx, o)
}

func TestNewFromCredential(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	jwt := iss.Mint("sub-1", "api://kafka", time.Hour, map[string]any{"ver": "2.0", "oid": "oid-1"})
	var scopes []string
	var mu sync.Mutex
	src := opened(t)(azure.NewFromCredential(credFunc(func(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
		mu.Lock()
		scopes = append(scopes, o.Scopes...)
		mu.Unlock()
		return azcore.AccessToken{Token: jwt, ExpiresOn: time.Now().Add(time.Hour)}, nil
	}), "api://kafka", nil))
	tok, err := src.Token(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "oid-1", tok.Principal)
	assert.Equal(t, []string{"api://kafka/.default"}, scopes)

	_, err = azure.NewFromCredential(nil, "api://kafka", nil)
	assert.Error(t, err)
	_, err = azure.NewFromCredential(credFunc(nil), "https://x", nil)
	assert.Error(t, err)

	failing := opened(t)(azure.NewFromCredential(credFunc(func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
		return azcore.AccessToken{}, errors.New("boom")
	}), "api://kafka", &azure.CredentialOptions{Name: "custom"}))
	_, err = failing.Token(ctx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "azure: custom")
	assert.False(t, oauthbearer.IsTransient(err))
}
