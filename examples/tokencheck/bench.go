package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// bench is the offline test bench: an identity provider emulator for the
// chosen source and an in-process broker validating its tokens.
type bench struct {
	what           string
	brokerAudience string
	azure          *http.Client
	closers        []func()
}

func (b *bench) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// startBench starts the emulators for c.source and points c at them.
func startBench(c *config) (_ *bench, err error) {
	b := &bench{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	issuer := oauthbearertest.NewIssuer(nil)
	b.closers = append(b.closers, issuer.Close)

	var audience string
	switch c.source {
	case srcAzureMI:
		imds := oauthbearertest.NewIMDS(&oauthbearertest.IMDSOptions{Signer: issuer, TokenLifetime: time.Hour})
		b.closers = append(b.closers, imds.Close)
		if c.target == "" {
			// A fresh audience per run: azidentity caches managed
			// identity tokens process-wide.
			c.target = fmt.Sprintf("11111111-2222-4333-8444-%012d", time.Now().UnixNano()%1e12)
		}
		audience = c.target
		b.azure = imds.Client()
		b.what = "an Azure IMDS emulator (tokens signed by " + issuer.IssuerURL() + ")"
	case srcClientCredentials:
		if c.clientID == "" {
			c.clientID = "tokencheck-client"
		}
		if c.clientSecret == "" {
			c.clientSecret = "offline-client-secret-not-real"
		}
		audience = "kafka"
		srv := oauthbearertest.NewOAuthServer(&oauthbearertest.OAuthServerOptions{
			Issuer: issuer, Audience: audience, Clients: map[string]oauthbearertest.OAuthClient{c.clientID: {Secret: c.clientSecret}},
		})
		b.closers = append(b.closers, srv.Close)
		c.tokenURL = srv.TokenURL()
		b.what = "an OAuth client credentials server at " + c.tokenURL
	default:
		return nil, errors.New("-offline supports -source azure-mi and client-credentials")
	}

	b.brokerAudience = audience
	if c.offlineReject {
		b.brokerAudience = "some-other-audience"
	}
	broker := oauthbearertest.NewBroker(&oauthbearertest.BrokerOptions{Issuer: issuer, ExpectedAudience: b.brokerAudience})
	b.closers = append(b.closers, broker.Close)
	c.bootstrap = broker.Addrs()[0]
	c.tls = false
	return b, nil
}
