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
