// Command confluent-control-plane calls the Confluent Cloud control-plane
// API (GET /org/v2/environments on api.confluent.cloud) with no API key:
// the workload's Azure identity token is exchanged at Confluent Cloud's STS
// (confluent.NewSTS) for a Confluent token of an identity pool, and that
// token is the bearer credential. The exchange is cached and refreshed like
// every token source of this module; a 401 from the API drops the token and
// retries once with a fresh one.
//
// Offline, with nothing set up (an IMDS emulator standing in for Entra ID,
// the Confluent STS emulator, and a local stand-in for the environments
// endpoint that accepts only tokens the STS emulator signed):
//
//	go run ./examples/confluent-control-plane -offline
//
// Against Confluent Cloud from an Azure VM (managed identity) or an AKS pod
// (-identity workload, configured by the workload identity webhook's
// environment), with an identity pool that has an OrganizationAdmin or
// EnvironmentAdmin role binding:
//
//	go run ./examples/confluent-control-plane \
//		-target <app-registration-id> -identity-pool pool-xxxx
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
)

// config is what the flags set.
type config struct {
	offline      bool
	identity     string
	target       string
	clientID     string
	identityPool string
	api          string
	stsEndpoint  string
	path         string
}

func main() {
	var cfg config
	flag.BoolVar(&cfg.offline, "offline", false, "start local emulators (IMDS, Confluent STS, control-plane stand-in) instead of using Azure and Confluent Cloud")
	flag.StringVar(&cfg.identity, "identity", "managed", "Azure identity: managed (IMDS) or workload (AKS, from AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE)")
	flag.StringVar(&cfg.target, "target", os.Getenv("CONFLUENT_TOKEN_TARGET"), "audience the Confluent identity provider expects: the App Registration's application ID, api:// URI or .default scope (env CONFLUENT_TOKEN_TARGET)")
	flag.StringVar(&cfg.clientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "client ID of a user-assigned managed identity (env AZURE_CLIENT_ID); empty: system-assigned")
	flag.StringVar(&cfg.identityPool, "identity-pool", os.Getenv("CONFLUENT_IDENTITY_POOL_ID"), "identity pool pool-... to exchange the token for (env CONFLUENT_IDENTITY_POOL_ID)")
	flag.StringVar(&cfg.api, "api", "https://api.confluent.cloud", "Confluent Cloud API base URL")
	flag.StringVar(&cfg.stsEndpoint, "sts-endpoint", confluent.DefaultSTSEndpoint, "Confluent STS token-exchange URL")
	flag.StringVar(&cfg.path, "path", "/org/v2/environments", "API path to GET")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "confluent-control-plane:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	// say is called from the token cache's goroutine too (OnRefresh).
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	if cfg.path == "" {
		cfg.path = "/org/v2/environments"
	}
	var azHTTP *http.Client
	if cfg.offline {
		env, err := startOffline()
		if err != nil {
			return err
		}
		defer env.close(say)
		say("offline: IMDS emulator (tokens signed by %s), Confluent STS emulator at %s, control-plane stand-in at %s",
			env.issuer.IssuerURL(), env.sts.TokenURL(), env.api.URL)
		cfg.identity, cfg.target, cfg.clientID, cfg.identityPool = "managed", env.target, "", offlinePool
		cfg.api, cfg.stsEndpoint = env.api.URL, env.sts.TokenURL()
		azHTTP = env.imds.Client()
	}
	switch {
	case cfg.target == "":
		return errors.New("-target (or CONFLUENT_TOKEN_TARGET) is required: set it to the audience your Confluent Cloud identity provider expects, the App Registration's application ID")
	case cfg.identityPool == "":
		return errors.New("-identity-pool (or CONFLUENT_IDENTITY_POOL_ID) is required: the STS issues a token for one identity pool (pool-...)")
	}

	// The subject: the workload's own Azure token.
	var subject *oauthbearer.Cache
	var err error
	switch cfg.identity {
	case "managed":
		subject, err = azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Target: cfg.target, ID: managedID(cfg.clientID), HTTPClient: azHTTP})
	case "workload":
		subject, err = azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Target: cfg.target, HTTPClient: azHTTP})
	default:
		err = fmt.Errorf("-identity %q is unknown; use managed or workload", cfg.identity)
	}
	if err != nil {
		return err
	}
	defer subject.Close()

	// The exchange: a Confluent token for the pool, cached and refreshed.
	ccloud, err := confluent.NewSTS(subject, &confluent.STSOptions{
		IdentityPoolID: cfg.identityPool,
		Endpoint:       cfg.stsEndpoint,
		Cache: &oauthbearer.CacheOptions{
			Name: "confluent sts",
			OnRefresh: func(ev oauthbearer.RefreshEvent) {
				if ev.Err != nil {
					say("token exchange failed (attempt %d): %v", ev.Failures, ev.Err)
					return
				}
				say("exchanged the Azure token at the Confluent STS for pool %s in %s; the Confluent token expires in %s",
					cfg.identityPool, ev.Duration.Round(time.Millisecond), time.Until(ev.Expiry).Round(time.Second))
			},
		},
	})
	if err != nil {
		return err
	}
	defer ccloud.Close()

	// The bearer transport of package schemaregistry is not specific to
	// Schema Registry: with no cluster or pool headers configured it adds
	// Authorization, refuses plain http to remote hosts, and refreshes and
	// retries once on 401, which suits every Confluent Cloud REST API.
	hc, err := schemaregistry.NewHTTPClient(ccloud, nil)
	if err != nil {
		return err
	}
	u, err := url.JoinPath(cfg.api, cfg.path)
	if err != nil {
		return fmt.Errorf("-api %q with -path %q: %w", cfg.api, cfg.path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("GET %s: reading the reply: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s (check the identity pool's role bindings in Confluent Cloud)", u, resp.Status, apiErrors(body))
	}
	var list struct {
		Kind string `json:"kind"`
		Data []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"data"`
		Metadata struct {
			Next string `json:"next"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("GET %s: the reply is not a Confluent list: %w", u, err)
	}
	say("GET %s: %s, %d items", cfg.path, resp.Status, len(list.Data))
	for _, it := range list.Data {
		say("  %s  %s", it.ID, it.DisplayName)
	}
	if list.Metadata.Next != "" {
		say("  (more on the next page: %s)", list.Metadata.Next)
	}
	say("done: called the Confluent Cloud API as identity pool %s with no API key", cfg.identityPool)
	return nil
}

// apiErrors summarises Confluent's error body {"errors":[{"status",
// "detail"}]}, or quotes the start of any other body (error bodies carry no
// token).
func apiErrors(body []byte) string {
	var e struct {
		Errors []struct {
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		ds := make([]string, 0, len(e.Errors))
		for _, x := range e.Errors {
			ds = append(ds, x.Detail)
		}
		return strings.Join(ds, "; ")
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%q", body)
}

// managedID selects a user-assigned identity by client ID, or the
// system-assigned one when id is empty.
func managedID(id string) azidentity.ManagedIDKind {
	if id == "" {
		return nil
	}
	return azidentity.ClientID(id)
}
