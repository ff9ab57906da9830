package main

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// offlineAppID is the Kafka App Registration of the managed-identity
// walkthrough this example follows, used when -offline runs without -target.
const offlineAppID = "5e20030f-3a3c-4aea-83bc-e6aa925a148f"

// bench is what -offline starts in place of Azure and Confluent Cloud.
type bench struct {
	close func()
}

// startOffline starts a token issuer standing in for Microsoft Entra ID,
// an IMDS emulator with a user-assigned identity whose tokens it signs,
// and three brokers that validate every token against the issuer's JWKS,
// and points cfg at them. Nothing here is needed on a real Azure machine.
func startOffline(cfg *config, say func(string, ...any)) (*bench, error) {
	var closers []func()
	b := &bench{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	issuer := oauthbearertest.NewIssuer(nil)
	closers = append(closers, issuer.Close)

	if cfg.target == "" {
		cfg.target = offlineAppID
	}
	if cfg.logicalCluster == "" {
		cfg.logicalCluster = "lkc-w25n5g"
	}
	if cfg.identityPool == "" {
		cfg.identityPool = "pool-7yzk"
	}
	// Without -client-id the emulator makes up a user-assigned identity,
	// with a new client ID on every run: azidentity caches managed-identity
	// tokens process-wide by client ID and resource, so a second offline
	// run in one process would otherwise be handed the first run's token,
	// signed by a key that is gone.
	if cfg.clientID == "" {
		g := make([]byte, 16)
		_, _ = rand.Read(g)
		cfg.clientID = fmt.Sprintf("%x-%x-%x-%x-%x", g[0:4], g[4:6], g[6:8], g[8:10], g[10:])
	}
	imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{
		Signer:        issuer,
		TokenLifetime: time.Hour,
		UserAssigned:  []oauthbearertest.ManagedIdentity{{ClientID: cfg.clientID}},
	})
	closers = append(closers, imds.Close)

	// IMDS puts the resource (the target without /.default) in "aud".
	scope, err := azure.NormalizeTarget(cfg.target)
	if err != nil {
		b.close()
		return nil, err
	}
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: issuer, ExpectedAudience: strings.TrimSuffix(scope, "/.default"), Topics: []string{cfg.topic}, Partitions: 3, NumBrokers: 3,
	})
	closers = append(closers, broker.Close, func() {
		// What Confluent Cloud would see: every authentication, its
		// principal and extensions.
		auths := broker.Authentications()
		accepted := 0
		for _, a := range auths {
			if a.Accepted {
				accepted++
			}
		}
		if len(auths) > 0 {
			last := auths[len(auths)-1]
			say("brokers accepted %d of %d authentications on %d connections; principal %s, extensions %v",
				accepted, len(auths), broker.Connections(), last.Principal, last.Extensions)
		}
	})
	say("offline: IMDS emulator with user-assigned identity %s; 3 brokers at %v validating tokens against %s",
		cfg.clientID, broker.Addrs(), issuer.JWKSURL())

	cfg.bootstrap = broker.Addrs()[0]
	cfg.httpClient = imds.Client()
	cfg.plaintext = true
	return b, nil
}
