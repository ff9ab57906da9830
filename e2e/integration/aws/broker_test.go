package aws_test

import (
	"fmt"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/e2e/internal/clienttest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest"
)

// The caller's AWS credentials, which the STS emulator checks signatures with.
const (
	accessKey = "AKIDEXAMPLE"
	secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// aivenAudience is what an Aiven service's
// kafka.sasl_oauthbearer_expected_audience is typically set to: its host.
const aivenAudience = "kafka-orders-acme.a.aivencloud.com"

// TestWebIdentityThroughBroker has franz-go and sarama produce and consume
// through a broker configured like the Aiven cluster in the AWS outbound
// identity federation guide: JWKS at the account issuer's
// /.well-known/jwks.json, expected issuer the issuer URL, expected audience
// the service's host, principal from "sub", which STS sets to the role ARN.
func TestWebIdentityThroughBroker(t *testing.T) {
	t.Parallel()
	for clientName, roundTrip := range clienttest.Clients() {
		for _, alg := range []string{"RS256", "ES384"} {
			t.Run(fmt.Sprintf("%s/%s", clientName, alg), func(t *testing.T) {
				t.Parallel()
				sts := idptest.NewSTS(t, &idptest.STSOptions{AccessKeyID: accessKey, SecretAccessKey: secretKey,
					AllowedAudiences: []string{aivenAudience}, MaxDurationSeconds: 3600})
				broker := oauthbearertest.NewBroker(t, &oauthbearertest.BrokerOptions{
					JWKSURL:          sts.JWKSURL,
					ExpectedIssuer:   sts.IssuerURL,
					ExpectedAudience: aivenAudience,
					SubClaimName:     "sub",
					Topics:           []string{"my-topic"},
					NumBrokers:       2,
				})
				src, err := awsid.NewWebIdentity(t.Context(), &awsid.WebIdentityOptions{
					Audience:         []string{aivenAudience},
					SigningAlgorithm: alg,
					Lifetime:         time.Hour, // the guide's --duration-seconds 3600
					Config: &sdkaws.Config{Region: sts.Region, BaseEndpoint: sdkaws.String(sts.URL), HTTPClient: sts.Client(),
						Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")},
				})
				require.NoError(t, err)
				t.Cleanup(func() { _ = src.Close() })

				roundTrip(t, broker.Addrs(), "my-topic", src, "a", "b", "c")

				auths := broker.Authentications()
				require.NotEmpty(t, auths)
				for _, a := range auths {
					require.True(t, a.Accepted, "broker refused: %s: %s", a.Reason, a.Detail)
					assert.Equal(t, sts.RoleARN, a.Principal, "the Kafka principal is the role ARN (User:<arn> in ACLs)")
					assert.Equal(t, sts.IssuerURL, a.Claims["iss"])
					assert.Empty(t, a.Extensions)
				}
				var calls []idptest.Request // the broker's JWKS requests aside
				for _, r := range sts.Requests() {
					if r.Token != "" {
						calls = append(calls, r)
					}
				}
				require.Len(t, calls, 1, "every connection shares one token")
				assert.Equal(t, []string{aivenAudience}, calls[0].Audience)
				assert.Equal(t, alg, calls[0].SigningAlgorithm)
				assert.Equal(t, 3600, calls[0].DurationSeconds)
			})
		}
	}
}
