package offline

import (
	"fmt"
	"io"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// SPIFFEEnv is a SPIFFE Workload API (a SPIRE agent's, emulated) and brokers
// that trust its JWT-SVIDs (issuer SPIFFEIssuer, audience "kafka").
type SPIFFEEnv struct {
	// Address is the Workload API, what SPIFFE_ENDPOINT_SOCKET holds.
	Address string
	// Bootstrap is the brokers' address (plaintext).
	Bootstrap string
	// Audience is what the brokers expect.
	Audience string

	agent  *spiffetest.WorkloadAPI
	broker *oauthbearertest.Broker
	run    stack
}

// SPIFFEIssuer is the SVIDs' iss, the SPIRE server's jwt_issuer.
const SPIFFEIssuer = "https://spire.example.org"

// StartSPIFFE starts the agent emulator (this process registered as
// spiffe://example.org/workload) and two brokers with topic.
func StartSPIFFE(topic string) (*SPIFFEEnv, error) {
	e := &SPIFFEEnv{Audience: "kafka"}
	err := e.run.start(func() error {
		e.agent = spiffetest.NewWorkloadAPI(&e.run, &spiffetest.Options{IssuerURL: SPIFFEIssuer})
		e.broker = oauthbearertest.NewBroker(&e.run, &oauthbearertest.BrokerOptions{
			JWKSURL: e.agent.JWKSURL, ExpectedIssuer: e.agent.IssuerURL, ExpectedAudience: e.Audience,
			Topics: []string{topic}, NumBrokers: 2,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.Address, e.Bootstrap = e.agent.Address, strings.Join(e.broker.Addrs(), ",")
	return e, nil
}

// Summary says what the agent and the brokers saw (never a token).
func (e *SPIFFEEnv) Summary() string {
	return fmt.Sprintf("the SPIFFE agent issued %s\n", Plural(e.agent.SignedCount(), "JWT-SVID")) + brokerLine(e.broker)
}

// Close stops the brokers and the agent.
func (e *SPIFFEEnv) Close() { e.run.close() }

// Report prints [SPIFFEEnv.Summary] to out, then closes e.
func (e *SPIFFEEnv) Report(out io.Writer) {
	fmt.Fprint(out, e.Summary())
	e.Close()
}
