package main

import (
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// offlineAudience is an Aiven-style expected audience: the service's host.
const offlineAudience = "kafka-orders-acme.a.aivencloud.com"

// bench is what -offline starts in place of AWS STS and the Kafka cluster.
type bench struct {
	close func()
}

// startOffline starts a regional STS emulator (whose tokens are signed for
// the role arn:aws:iam::123456789012:role/kafka-workload) and three brokers
// configured as the Aiven guide configures its cluster: JWKS and expected
// issuer from the account's issuer, the expected audience, and "sub" as
// the principal. It points cfg at them. Nothing here is needed on AWS.
func startOffline(cfg *config, say func(string, ...any)) (*bench, error) {
	var closers []func()
	b := &bench{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	stsOpts := &oauthbearertest.STSOptions{Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/kafka-workload"}
	sts := oauthbearertest.NewSTS(stsOpts)
	closers = append(closers, sts.Close)

	if cfg.audience == "" {
		cfg.audience = offlineAudience
	}
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{
		JWKSURL:          sts.JWKSURL(),
		ExpectedIssuer:   sts.IssuerURL(),
		ExpectedAudience: cfg.audience,
		SubClaimName:     "sub",
		Topics:           []string{cfg.topic},
		Partitions:       3,
		NumBrokers:       3,
	})
	closers = append(closers, broker.Close, func() {
		// What the cluster saw: every authentication and its principal,
		// which ACLs would name as User:<role ARN>.
		auths := broker.Authentications()
		accepted := 0
		for _, a := range auths {
			if a.Accepted {
				accepted++
			}
		}
		if len(auths) > 0 {
			say("brokers accepted %d of %d authentications on %d connections; principal %s",
				accepted, len(auths), broker.Connections(), auths[len(auths)-1].Principal)
		}
	})
	say("offline: STS emulator for %s in %s; 3 brokers at %v trusting issuer %s for audience %s",
		stsOpts.RoleARN, stsOpts.Region, broker.Addrs(), sts.IssuerURL(), cfg.audience)

	cfg.offlineOptions = func(o *awsid.WebIdentityOptions) {
		// On AWS the SDK's default chain finds the role's credentials;
		// here any access key will do, and STS is the emulator.
		o.Config = &sdkaws.Config{
			Region:       stsOpts.Region,
			Credentials:  credentials.NewStaticCredentialsProvider("AKIAOFFLINEEXAMPLE", "offline-example-not-a-secret", ""),
			BaseEndpoint: sdkaws.String(sts.URL),
			HTTPClient:   sts.Client(),
		}
	}
	cfg.bootstrap = broker.Addrs()[0]
	cfg.plaintext = true
	return b, nil
}
