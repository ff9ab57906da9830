package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// The identities -offline plays: a user-assigned managed identity in a
// tenant, federated with the service account the pod runs as.
const (
	offlineTenantID       = "b52245db-4800-4792-975a-1d9ed49512f2"
	offlineClientID       = "2c10dec2-da22-424a-b2ab-3c01766e37f3"
	offlineServiceAccount = "system:serviceaccount:orders:producer"
	offlineTarget         = "api://confluent-kafka"
)

// bench is what -offline starts in place of AKS, Entra ID and Confluent
// Cloud.
type bench struct {
	close func()
}

// startOffline starts an AKS-style OIDC issuer for service-account tokens,
// a Microsoft Entra ID emulator (over TLS, as azidentity insists) that
// trusts it for offlineServiceAccount, writes a projected token file as the
// kubelet does, and starts three brokers that validate Entra's tokens. It
// points cfg at them, including the AZURE_* variables the workload identity
// webhook would inject. Nothing here is needed in a real AKS pod.
func startOffline(cfg *config, say func(string, ...any)) (*bench, error) {
	var closers []func()
	b := &bench{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	fail := func(err error) (*bench, error) { b.close(); return nil, err }

	kubernetes := oauthbearertest.NewIssuer(nil)
	closers = append(closers, kubernetes.Close)
	entraKeys := oauthbearertest.NewIssuer(nil)
	closers = append(closers, entraKeys.Close)
	entra := oauthbearertest.NewEntra(&oauthbearertest.EntraOptions{
		Signer: entraKeys,
		Apps: []oauthbearertest.EntraApp{{
			TenantID: offlineTenantID, ClientID: offlineClientID,
			Federated: []oauthbearertest.FederatedCredential{{Issuer: kubernetes.IssuerURL(), Subject: offlineServiceAccount}},
		}},
	})
	closers = append(closers, entra.Close)

	dir, err := os.MkdirTemp("", "azure-workload-identity-")
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { _ = os.RemoveAll(dir) })
	tokenFile := filepath.Join(dir, "azure-identity-token")
	serviceAccountToken := kubernetes.Mint(offlineServiceAccount, "api://AzureADTokenExchange", time.Hour, nil)
	if err := os.WriteFile(tokenFile, []byte(serviceAccountToken), 0o600); err != nil {
		return fail(err)
	}

	if cfg.target == "" {
		cfg.target = offlineTarget
	}
	if cfg.logicalCluster == "" {
		cfg.logicalCluster = "lkc-w25n5g"
	}
	if cfg.identityPool == "" {
		cfg.identityPool = "pool-7yzk"
	}
	// Entra puts the resource (the target without /.default) in "aud".
	scope, err := azure.NormalizeTarget(cfg.target)
	if err != nil {
		return fail(err)
	}
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: entraKeys, ExpectedAudience: strings.TrimSuffix(scope, "/.default"), Topics: []string{cfg.topic}, Partitions: 3, NumBrokers: 3,
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
	say("offline: Entra emulator trusting service account %s; 3 brokers at %v validating Entra's tokens",
		offlineServiceAccount, broker.Addrs())

	env := map[string]string{
		azure.EnvClientID:           offlineClientID,
		azure.EnvTenantID:           offlineTenantID,
		azure.EnvFederatedTokenFile: tokenFile,
		azure.EnvAuthorityHost:      entra.URL,
	}
	cfg.getenv = func(k string) string { return env[k] }
	cfg.httpClient = entra.Client()
	cfg.disableInstanceDiscovery = true
	cfg.bootstrap = broker.Addrs()[0]
	cfg.plaintext = true
	return b, nil
}
