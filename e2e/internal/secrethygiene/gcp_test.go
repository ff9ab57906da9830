package secrethygiene

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// gcpSources runs both gcp sources, from the metadata server and from a
// service-account key, through success and failure, with the access
// tokens, wrappers, ID tokens and the key's private key as secrets. The
// echo cases make Google's token endpoint quote the signed assertion
// back.
func gcpSources(t *testing.T, c *collector, iss *idptest.Issuer) {
	g := idptest.NewGCE(t, &idptest.GCEOptions{Signer: iss, AllowedAudiences: []string{"kafka.example.com"}})
	key := g.ServiceAccountKeyJSON
	var kf struct {
		PrivateKey string `json:"private_key"`
		TokenURI   string `json:"token_uri"` // the emulator's stand-in for Google's token endpoint
	}
	require.NoError(t, json.Unmarshal(key, &kf))
	c.secret("gcp private key", kf.PrivateKey)

	mk := func(o gcp.ManagedKafkaOptions) *oauthbearer.Cache {
		o.HTTPClient, o.Cache = g.Client(), fastCache(c)
		src, err := gcp.NewManagedKafka(context.Background(), &o)
		require.NoError(t, err)
		return src
	}
	id := func(o gcp.IDTokenOptions) *oauthbearer.Cache {
		o.HTTPClient, o.Cache = g.Client(), fastCache(c)
		src, err := gcp.NewIDToken(context.Background(), &o)
		require.NoError(t, err)
		return src
	}
	use(t, c, "gcp managed kafka (metadata)", mk(gcp.ManagedKafkaOptions{MetadataServer: true}))
	use(t, c, "gcp managed kafka (key)", mk(gcp.ManagedKafkaOptions{CredentialsJSON: key}))
	use(t, c, "gcp id token (metadata)", id(gcp.IDTokenOptions{Audience: "kafka.example.com", MetadataServer: true}))
	use(t, c, "gcp id token (key)", id(gcp.IDTokenOptions{Audience: "kafka.example.com", CredentialsJSON: key}))
	useErr(t, c, "gcp id token audience refused", id(gcp.IDTokenOptions{Audience: "other", MetadataServer: true}))
	g.FailNext(1, idptest.Fault{Echo: true, Status: http.StatusBadRequest, Path: strings.TrimPrefix(kf.TokenURI, g.URL)})
	useErr(t, c, "gcp managed kafka (key) echo", mk(gcp.ManagedKafkaOptions{CredentialsJSON: key}))
	g.FailNext(1, idptest.Fault{Echo: true, Status: http.StatusForbidden, Path: strings.TrimPrefix(kf.TokenURI, g.URL)})
	useErr(t, c, "gcp id token (key) echo", id(gcp.IDTokenOptions{Audience: "kafka.example.com", CredentialsJSON: key}))
	g.FailNext(1, idptest.Fault{Malformed: true, Path: "/computeMetadata/v1/instance/service-accounts/default/token"})
	useErr(t, c, "gcp managed kafka malformed", mk(gcp.ManagedKafkaOptions{MetadataServer: true}))
	g.FailNext(1, idptest.Fault{Malformed: true, Path: "/computeMetadata/v1/instance/service-accounts/default/identity"})
	useErr(t, c, "gcp id token malformed", id(gcp.IDTokenOptions{Audience: "kafka.example.com", MetadataServer: true}))
	_, err := gcp.NewManagedKafka(context.Background(), &gcp.ManagedKafkaOptions{CredentialsJSON: key[:len(key)/2]})
	require.Error(t, err)
	c.err(err)
	for _, r := range g.Requests() {
		c.secret("gcp-issued "+r.Kind+" token", r.Token)
	}
}
