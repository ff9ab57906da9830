package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// offline is the local stand-in for an Azure VM and Confluent Cloud.
type offline struct {
	issuer   *oauthbearertest.Issuer
	imds     *oauthbearertest.IMDS
	broker   *oauthbearertest.Broker
	resource string // the Kafka App Registration's application ID
	clientID string // the user-assigned managed identity's client ID
}

// startOffline starts an issuer standing in for Entra ID, an IMDS
// emulator with one user-assigned identity, and a Kafka cluster that
// demands tokens for resource.
func startOffline(topic string) (_ *offline, err error) {
	env := &offline{resource: randomGUID(), clientID: randomGUID()}
	defer func() {
		if err != nil {
			env.close(func(string, ...any) {})
		}
	}()
	env.issuer = oauthbearertest.NewIssuer(nil)
	env.imds = oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{
		Signer: env.issuer, TokenLifetime: time.Hour,
		UserAssigned: []oauthbearertest.ManagedIdentity{{ClientID: env.clientID}},
	})
	env.broker = oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		Issuer: env.issuer, ExpectedAudience: env.resource, Topics: []string{topic}, NumBrokers: 3,
	})
	return env, nil
}

// properties is a client.properties file in the form of the Confluent
// Cloud managed-identity guide, with the IMDS URL exactly as written there
// (169.254.169.254, which the emulator's client intercepts). The one
// difference: the in-process brokers speak plain TCP, so SASL_PLAINTEXT.
func (env *offline) properties() string {
	return fmt.Sprintf(`# Written by examples/client-properties -offline.
bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s&client_id=%s
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.mechanism=OAUTHBEARER
sasl.jaas.config= \
org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
clientId='ignored' \
clientSecret='ignored' \
extension_logicalCluster='lkc-w25n5g' \
extension_identityPoolId='pool-7yzk';
client.id=client-properties-example
acks=all
`, env.broker.Addrs()[0], env.resource, env.clientID)
}

// close reports what the brokers saw (never a token) and stops everything.
func (env *offline) close(say func(string, ...any)) {
	if env.broker != nil {
		if auths := env.broker.Authentications(); len(auths) > 0 {
			a := auths[len(auths)-1]
			refused := 0
			for _, a := range auths {
				if !a.Accepted {
					refused++
				}
			}
			say("brokers: %d authentications, %d refused; principal %q, extensions %v", len(auths), refused, a.Principal, a.Extensions)
		}
		env.broker.Close()
	}
	if env.imds != nil {
		issued := 0
		for _, r := range env.imds.Requests() {
			if r.Status == http.StatusOK {
				issued++
			}
		}
		if issued > 0 {
			say("IMDS emulator: %d tokens issued", issued)
		}
		env.imds.Close()
	}
	if env.issuer != nil {
		env.issuer.Close()
	}
}

// randomGUID names fresh Azure IDs per run: azidentity caches
// managed-identity tokens process-wide by client and scope, and a token
// from an earlier run's emulator would not verify against this one.
func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
