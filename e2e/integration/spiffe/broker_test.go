// Package spiffe_test runs the spiffe module's JWT-SVID source through
// real Kafka clients (franz-go, sarama) against the bench's in-process
// broker and through the Schema Registry transport, with the Workload API
// emulator (spiffetest) as the workload's SPIRE agent.
package spiffe_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

const (
	issuer   = "https://spire.example.org"
	audience = "kafka"
)

func newAgent(t *testing.T, ttl time.Duration) *spiffetest.WorkloadAPI {
	t.Helper()
	a := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: issuer, Lifetime: ttl})
	return a
}

func newSource(t *testing.T, a *spiffetest.WorkloadAPI, aud string) *oauthbearer.Cache {
	t.Helper()
	src, err := spiffe.New(&spiffe.Options{Audience: aud, Address: a.Address})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// franz-go and sarama produce and consume with JWT-SVIDs; the broker
// validates them against the agent's keys (ES256, kid), expects the
// issuer and audience, and takes the SPIFFE ID as principal.
func TestThroughBroker(t *testing.T) {
	t.Parallel()
	for clientName, roundTrip := range clienttest.Clients() {
		t.Run(clientName, func(t *testing.T) {
			t.Parallel()
			agent := newAgent(t, 0)
			broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
				JWKSURL: agent.JWKSURL, ExpectedIssuer: agent.IssuerURL, ExpectedAudience: audience, Topics: []string{"orders"}, NumBrokers: 2,
			})
			roundTrip(t, broker.Addrs(), "orders", newSource(t, agent, audience), "a", "b", "c")
			auths := broker.Authentications()
			require.NotEmpty(t, auths)
			for _, a := range auths {
				require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
				assert.Equal(t, defaultSPIFFEID, a.Principal)
				assert.Equal(t, []any{audience}, a.Claims["aud"])
			}
			assert.Equal(t, 1, agent.SignedCount(), "one SVID for every connection of both brokers")
		})
	}
}

// Short-lived SVIDs rotate under a running franz-go client: the broker
// caps each session at the SVID's remaining life, the client
// re-authenticates with the SVID the cache refreshed, and records keep
// flowing with every authentication accepted.
func TestRotationThroughBroker(t *testing.T) {
	t.Parallel()
	agent := newAgent(t, 4*time.Second)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{JWKSURL: agent.JWKSURL, ExpectedIssuer: agent.IssuerURL, ExpectedAudience: audience, Topics: []string{"orders"}})
	src := newSource(t, agent, audience)
	mech, err := franzsasl.Mechanism(src, nil)
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(mech), kgo.DefaultProduceTopic("orders"))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for agent.SignedCount() < 3 {
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr())
		time.Sleep(100 * time.Millisecond)
	}
	reauth := 0
	for _, a := range broker.Authentications() {
		require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
		if a.Reauth {
			reauth++
		}
	}
	assert.Positive(t, reauth, "the connection was re-authenticated with a rotated SVID")
}

// An SVID for another audience is refused by the broker: the source asked
// the agent for "schema-registry", the listener expects "kafka".
func TestAudienceMismatchAtBroker(t *testing.T) {
	t.Parallel()
	agent := newAgent(t, 0)
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{JWKSURL: agent.JWKSURL, ExpectedIssuer: agent.IssuerURL, ExpectedAudience: audience, Topics: []string{"orders"}})
	mech, err := franzsasl.Mechanism(newSource(t, agent, "schema-registry"), nil)
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.SASL(mech))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	var rej *oauthbearer.RejectedError
	require.True(t, errors.As(err, &rej), "%v", err)
	assert.Equal(t, "invalid_token", rej.Status)
	auths := broker.Authentications()
	require.NotEmpty(t, auths)
	assert.Contains(t, auths[0].Reason+auths[0].Detail, "aud")
}

// Schema Registry through the bearer transport with an SVID for the
// registry's audience: the registry verifies it against the agent's keys.
func TestSchemaRegistry(t *testing.T) {
	t.Parallel()
	agent := newAgent(t, 0)
	reg := idptest.NewSchemaRegistry(t, &idptest.SchemaRegistryOptions{JWKSURL: agent.JWKSURL, ExpectedIssuer: issuer, ExpectedAudience: "schema-registry", LogicalCluster: "lsrc-kjn9nv"})
	src := newSource(t, agent, "schema-registry")
	hc, err := schemaregistry.NewHTTPClient(src, &schemaregistry.TransportOptions{LogicalCluster: "lsrc-kjn9nv"})
	require.NoError(t, err)
	cl, err := sr.NewClient(sr.URLs(reg.URL), sr.HTTPClient(hc))
	require.NoError(t, err)
	ss, err := cl.CreateSchema(context.Background(), "cars-value", sr.Schema{Type: sr.TypeAvro, Schema: `{"type":"record","name":"Car","fields":[{"name":"make","type":"string"}]}`})
	require.NoError(t, err)
	assert.Positive(t, ss.ID)
	reqs := reg.Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		assert.NotEqual(t, http.StatusUnauthorized, r.Status, "%+v", r)
	}
	assert.Equal(t, defaultSPIFFEID, reqs[len(reqs)-1].Subject)
	assert.Empty(t, reqs[len(reqs)-1].Error)

	// The Kafka SVID is refused by the registry (another audience).
	bad, err := schemaregistry.NewHTTPClient(newSource(t, agent, audience), &schemaregistry.TransportOptions{LogicalCluster: "lsrc-kjn9nv"})
	require.NoError(t, err)
	resp, err := bad.Get(reg.URL + "/subjects")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	reqs = reg.Requests()
	assert.Equal(t, http.StatusUnauthorized, reqs[len(reqs)-1].Status)
	assert.True(t, strings.Contains(reqs[len(reqs)-1].Error, "aud"), "%+v", reqs[len(reqs)-1])
}

// defaultSPIFFEID is the identity of spiffetest's default registration
// entry (Options.Entries).
const defaultSPIFFEID = "spiffe://example.org/workload"
