// Command confluent-control-plane calls the Confluent Cloud API
// (GET /org/v2/environments) with no API key: the workload's Azure managed
// identity token is exchanged at Confluent Cloud's STS (confluent.NewSTS)
// for a Confluent token of an identity pool, and that token is the bearer
// credential. The exchange is cached and refreshed like every token source
// of this module; a 401 drops the token and retries once with a fresh one.
//
// From an Azure VM or AKS node, with an identity pool that has an
// OrganizationAdmin or EnvironmentAdmin role binding:
//
//	go run ./examples/confluent-control-plane -audience <app-registration-id> -identity-pool pool-xxxx
//
// -offline runs the same code against an IMDS emulator, the Confluent STS
// emulator and a stand-in for the API that accepts only the STS's tokens.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/cli"
	"github.com/streamidentity/kafka-workload-identity/examples/internal/offline"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

type config struct {
	audience, clientID, identityPool, api, sts string
	offline                                    bool
	imds                                       *http.Client // offline: the IMDS emulator
}

func main() {
	var cfg config
	cli.String(&cfg.audience, "audience", "KAFKA_OAUTH_AUDIENCE", "", "the audience your Confluent identity provider expects: the App Registration's application ID")
	cli.AzureClientID(&cfg.clientID)
	cli.String(&cfg.identityPool, "identity-pool", "CONFLUENT_IDENTITY_POOL_ID", "", "identity pool, pool-...")
	flag.StringVar(&cfg.api, "api", "https://api.confluent.cloud", "Confluent Cloud API base URL")
	flag.StringVar(&cfg.sts, "sts-endpoint", confluent.DefaultSTSTokenURL, "Confluent STS token exchange URL")
	flag.BoolVar(&cfg.offline, "offline", false, "run against local emulators instead of Azure and Confluent Cloud")
	cli.Main("confluent-control-plane", &cfg, config.run)
}

func (cfg config) run(ctx context.Context, out io.Writer) error {
	if cfg.offline {
		env, err := offline.Start(offline.ConfluentControlPlane, nil)
		if err != nil {
			return err
		}
		defer env.Report(out)
		cfg.audience, cfg.clientID, cfg.identityPool, cfg.imds = env.Audience, env.ClientID, offline.IdentityPool, env.HTTPClient
		cfg.api, cfg.sts = env.APIURL, env.STSEndpoint
	}
	if cfg.audience == "" || cfg.identityPool == "" {
		return errors.New("-audience and -identity-pool are required (or -offline): the audience your Confluent identity provider expects, and the pool (pool-...) to get a token for")
	}

	var id azidentity.ManagedIDKind // nil: system-assigned
	if cfg.clientID != "" {
		id = azidentity.ClientID(cfg.clientID)
	}
	subject, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: cfg.audience, ID: id, HTTPClient: cfg.imds})
	if err != nil {
		return err
	}
	defer subject.Close()
	// The exchange: a Confluent token for the pool, cached and refreshed.
	exchange, err := confluent.NewSTS(subject, &confluent.STSOptions{IdentityPoolID: cfg.identityPool, TokenURL: cfg.sts})
	if err != nil {
		return err
	}
	defer exchange.Close()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.api+"/org/v2/environments", nil)
	if err != nil {
		return err
	}
	// The bearer transport of package schemaregistry suits every Confluent
	// Cloud REST API: it adds Authorization, refuses plain http to remote
	// hosts, and refreshes and retries once on 401.
	hc, err := schemaregistry.NewHTTPClient(exchange, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s (check the identity pool's role bindings in Confluent Cloud)", req.URL, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&list); err != nil {
		return fmt.Errorf("GET %s: the reply is not a Confluent list: %w", req.URL, err)
	}
	fmt.Fprintf(out, "identity pool %s sees %s:\n", cfg.identityPool, offline.Plural(len(list.Data), "environment"))
	for _, env := range list.Data {
		fmt.Fprintf(out, "  %s  %s\n", env.ID, env.DisplayName)
	}
	return nil
}
