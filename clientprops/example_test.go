package clientprops_test

import (
	"fmt"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
)

// A client.properties file written for confluent-oauth-extensions is
// described, not executed: azure.FromClientProperties builds the Azure source it names.
func ExampleParse() {
	file := `security.protocol=SASL_SSL
sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=5e20030f-3a3c-4aea-83bc-e6aa925a148f
sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler
sasl.mechanism=OAUTHBEARER
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    extension_logicalCluster='lkc-w25n5g' extension_identityPoolId='pool-7yzk';
bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
`
	cfg, err := clientprops.Parse(strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Source.Kind, cfg.Source.Resource)
	fmt.Println(cfg.Extensions.Map())
	// Output:
	// azure-managed-identity 5e20030f-3a3c-4aea-83bc-e6aa925a148f
	// map[identityPoolId:pool-7yzk logicalCluster:lkc-w25n5g]
}

// Parse describes everything a Kafka client.properties file configures:
// the token source, the SASL settings, the extensions, the Schema Registry
// settings and the cache tuning, with any other key kept with its line.
// Secrets are never printed.
func ExampleParse_clientCredentials() {
	file := `bootstrap.servers=pkc-1wvvj.westeurope.azure.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
    clientId="orders-svc" clientSecret="s3cr3t-value" scope="kafka" extension_logicalCluster="lkc-w25n5g";
sasl.login.refresh.window.factor=0.5
schema.registry.url=https://psrc-4nyvj.westeurope.azure.confluent.cloud
client.id=orders
`
	cfg, err := clientprops.Parse(strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := cfg.Source
	fmt.Printf("source: %s, client %s at %s, scope %s, secret %v\n", s.Kind, s.ClientID, s.TokenURL, s.Scope, s.ClientSecret)
	fmt.Printf("kafka: %s over %s to %s, logical cluster %s\n", cfg.SASLMechanism, cfg.SecurityProtocol, strings.Join(cfg.BootstrapServers, ","), cfg.Extensions.LogicalCluster)
	fmt.Printf("cache: refresh at %.0f%% of the token's life\n", cfg.Cache.RefreshFraction*100)
	fmt.Printf("schema registry: %s\n", cfg.SchemaRegistry.URL)
	for _, p := range cfg.Other {
		fmt.Printf("other: %s (line %d)\n", p.Key, p.Line)
	}
	// Output:
	// source: client-credentials, client orders-svc at https://idp.example.com/oauth2/token, scope kafka, secret <redacted>
	// kafka: OAUTHBEARER over SASL_SSL to pkc-1wvvj.westeurope.azure.confluent.cloud:9092, logical cluster lkc-w25n5g
	// cache: refresh at 50% of the token's life
	// schema registry: https://psrc-4nyvj.westeurope.azure.confluent.cloud
	// other: client.id (line 10)
}
