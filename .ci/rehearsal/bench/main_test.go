// The franz-go + Azure service's test, offline, on the test bench: the
// root module's IMDS emulator (idptest) issues the tokens, the broker
// module's in-process broker validates them.
package main

import (
	"context"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

func TestProduce(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	imds := idptest.NewIMDS(t, &idptest.IMDSOptions{
		Signer:         iss,
		SystemAssigned: idptest.ManagedIdentity{ObjectID: "4f1e2d3c-0000-4000-8000-00000000cafe"},
	})
	broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: imds.AppID("api://kafka-rehearsal"), Topics: []string{"orders"},
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := produce(ctx, broker.Addrs(), false, "api://kafka-rehearsal", "orders", imds.Client()); err != nil {
		t.Fatalf("produce: %v", err)
	}
	auths := broker.Authentications()
	if len(auths) == 0 || !auths[0].Accepted {
		t.Fatalf("the broker accepted no token: %+v", auths)
	}
	t.Logf("the broker accepted the managed identity's token for %s", auths[0].Principal)
}
