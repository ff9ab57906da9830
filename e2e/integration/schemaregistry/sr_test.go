package schemaregistry_test

// Real Schema Registry clients (franz-go's sr, confluent-kafka-go's
// schemaregistry) through the transport against the registry emulator.
// They live in the e2e module so that the root module's go.mod needs
// neither client.

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

const (
	testLSRC = "lsrc-kjn9nv"
	testPool = "pool-7yzk"
	testAud  = "schema-registry"
)

// mintingSource returns a cached source of fresh tokens from iss and the
// number of fetches it made.
func mintingSource(t *testing.T, iss *idptest.Issuer) (*oauthbearer.Cache, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	c, err := oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		i := n.Add(1)
		return oauthbearer.Token{Value: iss.Mint(fmt.Sprintf("workload-%d", i), testAud, time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
	}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, &n
}

func newRegistry(t *testing.T, tlsOn bool) (*idptest.SchemaRegistry, *idptest.Issuer) {
	t.Helper()
	iss := idptest.NewIssuer(t, nil)
	reg := idptest.NewSchemaRegistry(t, &idptest.SchemaRegistryOptions{
		Issuer: iss, ExpectedAudience: testAud, LogicalCluster: testLSRC, IdentityPoolID: testPool, TLS: tlsOn,
	})
	return reg, iss
}

// revokeNext makes the registry answer the next request 401, as Confluent
// Cloud does when it has revoked a token early.
func revokeNext(reg *idptest.SchemaRegistry) {
	reg.FailNext(1, idptest.Fault{Status: http.StatusUnauthorized, Code: "401", Message: "Unauthorized"})
}

// checkRegistryLog checks that the registry answered 401 exactly
// unauthorized times and that every other request passed its
// authentication with the logical cluster and pool headers. The 401s are
// revokeNext's faults, answered before the headers are read.
func checkRegistryLog(t *testing.T, reg *idptest.SchemaRegistry, unauthorized int) {
	t.Helper()
	n := 0
	for _, r := range reg.Requests() {
		if r.Status == http.StatusUnauthorized {
			n++
			continue
		}
		assert.Empty(t, r.Error, "%s %s", r.Method, r.Path)
		assert.Equal(t, testLSRC, r.LogicalCluster)
		assert.Equal(t, testPool, r.IdentityPoolID)
	}
	assert.Equal(t, unauthorized, n, "requests answered 401")
}

func schemaN(i int) sr.Schema {
	return sr.Schema{Type: sr.TypeAvro, Schema: fmt.Sprintf(`{"type":"record","name":"Car%d","fields":[{"name":"make","type":"string"}]}`, i)}
}

func TestFranzSRConcurrentWithRefreshOn401(t *testing.T) {
	t.Parallel()
	reg, iss := newRegistry(t, true)
	src, fetches := mintingSource(t, iss)
	tr, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{
		LogicalCluster: testLSRC, IdentityPoolID: testPool,
		Base: reg.Client().Transport,
	})
	require.NoError(t, err)
	cl, err := sr.NewClient(sr.URLs(reg.URL), sr.HTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}))
	require.NoError(t, err)

	// Warm up, then make the registry revoke the current token: the next
	// request gets 401, the transport refreshes and replays the body.
	_, err = cl.Subjects(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load())
	revokeNext(reg)

	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ss, err := cl.CreateSchema(context.Background(), fmt.Sprintf("cars-%d-value", i), schemaN(i))
			if err == nil && ss.Subject != fmt.Sprintf("cars-%d-value", i) {
				err = fmt.Errorf("subject %q", ss.Subject)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	subjects, err := cl.Subjects(context.Background())
	require.NoError(t, err)
	assert.Len(t, subjects, n, "every body reached the registry, including the replayed one")
	checkRegistryLog(t, reg, 1)
	// One refresh for the whole burst: concurrent requests share the cache.
	assert.EqualValues(t, 2, fetches.Load())
}

func TestRegistryRejectsMissingHeadersAndBadTokens(t *testing.T) {
	t.Parallel()
	reg, iss := newRegistry(t, false)
	other := idptest.NewIssuer(t, nil)
	tests := map[string]struct {
		src  oauthbearer.TokenSource
		opts schemaregistry.TransportOptions
	}{
		"no logical cluster": {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, time.Hour, nil)}), schemaregistry.TransportOptions{IdentityPoolID: testPool}},
		"wrong pool":         {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, time.Hour, nil)}), schemaregistry.TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: "pool-other"}},
		"foreign issuer":     {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: other.Mint("a", testAud, time.Hour, nil)}), schemaregistry.TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
		"wrong audience":     {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", "kafka", time.Hour, nil)}), schemaregistry.TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
		"expired":            {oauthbearer.StaticTokenSource(oauthbearer.Token{Value: iss.Mint("a", testAud, -time.Hour, nil)}), schemaregistry.TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hc, err := schemaregistry.NewHTTPClient(tc.src, &tc.opts)
			require.NoError(t, err)
			cl, err := sr.NewClient(sr.URLs(reg.URL), sr.HTTPClient(hc))
			require.NoError(t, err)
			_, err = cl.Subjects(context.Background())
			var re *sr.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
			assert.Equal(t, 401, re.ErrorCode)
			assert.Equal(t, "Unauthorized", re.Message)
		})
	}
}
