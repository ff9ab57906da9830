package schemaregistry_test

import (
	"net/http"
	"testing"
	"time"

	ckgsr "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// The real confluent-kafka-go Schema Registry client (its schemaregistry
// package is pure Go) with HeaderProvider as a CUSTOM bearer source and
// the Transport underneath for refresh-on-401.
func TestConfluentKafkaGoClient(t *testing.T) {
	t.Parallel()
	reg, iss := newRegistry(t, false)
	src, fetches := mintingSource(t, iss)

	var _ interface {
		GetAuthenticationHeader() (string, error)
		GetIdentityPoolID() (string, error)
		GetLogicalCluster() (string, error)
	} = (*schemaregistry.HeaderProvider)(nil)
	p, err := schemaregistry.NewHeaderProvider(src, &schemaregistry.HeaderProviderOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool})
	require.NoError(t, err)
	tr, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{LogicalCluster: testLSRC, IdentityPoolID: testPool})
	require.NoError(t, err)

	conf := ckgsr.NewConfig(reg.URL)
	conf.BearerAuthCredentialsSource = "CUSTOM"
	conf.AuthenticationHeaderProvider = p
	conf.HTTPClient = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	conf.MaxRetries = 0
	cl, err := ckgsr.NewClient(conf)
	require.NoError(t, err)

	id, err := cl.Register("cars-value", ckgsr.SchemaInfo{Schema: `{"type":"record","name":"Car","fields":[{"name":"make","type":"string"}]}`}, false)
	require.NoError(t, err)
	assert.Positive(t, id)

	revokeNext(reg)
	subjects, err := cl.GetAllSubjects()
	require.NoError(t, err)
	assert.Equal(t, []string{"cars-value"}, subjects)
	checkRegistryLog(t, reg, 1)
	assert.EqualValues(t, 2, fetches.Load())
}
