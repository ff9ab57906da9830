// The franz-go + Azure service's test, offline, on the test bench: an IMDS
// emulator issues the tokens, an in-process broker validates them.
package main

import (
	"context"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

func TestProduce(t *testing.T) {
	iss := oauthbearertest.NewIssuer(nil)
	defer iss.Close()
	imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{
		Signer:         iss,
		SystemAssigned: oauthbearertest.ManagedIdentity{ObjectID: "4f1e2d3c-0000-4000-8000-00000000cafe"},
	})
	defer imds.Close()
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: iss, ExpectedAudience: imds.AppID("api://kafka-rehearsal"), Topics: []string{"orders"},
	})
	defer broker.Close()

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
