module github.com/streamidentity/kafka-workload-identity/e2e

go 1.26.0

replace github.com/streamidentity/kafka-workload-identity => ..

replace github.com/streamidentity/kafka-workload-identity/azure => ../azure

replace github.com/streamidentity/kafka-workload-identity/aws => ../aws

replace github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl => ../oauthbearer/franzsasl

replace github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl => ../oauthbearer/saramasasl

replace github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl => ../oauthbearer/kafkagosasl

replace github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka => ../oauthbearer/confluentkafka

replace github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest => ../oauthbearer/oauthbearertest

require (
	github.com/Azure/azure-sdk-for-go/sdk/azcore v1.23.3
	github.com/Azure/azure-sdk-for-go/sdk/azidentity v1.15.0
	github.com/IBM/sarama v1.61.1
	github.com/aws/aws-sdk-go-v2 v1.47.7
	github.com/aws/aws-sdk-go-v2/credentials v1.20.15
	github.com/aws/aws-sdk-go-v2/service/sts v1.51.8
	github.com/aws/smithy-go v1.28.8
	github.com/confluentinc/confluent-kafka-go/v2 v2.11.1
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/segmentio/kafka-go v0.4.51
	github.com/streamidentity/kafka-workload-identity v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/aws v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/azure v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest v0.0.0-00010101000000-000000000000
	github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	github.com/twmb/franz-go v1.22.2
	github.com/twmb/franz-go/pkg/kmsg v1.15.0
	github.com/twmb/franz-go/pkg/sr v1.8.0
	go.uber.org/goleak v1.3.0
	go.yaml.in/yaml/v3 v3.0.5
	golang.org/x/mod v0.41.0
	golang.org/x/oauth2 v0.38.0
)

require cloud.google.com/go/compute/metadata v0.10.0 // indirect

require (
	github.com/Azure/azure-sdk-for-go/sdk/internal v1.13.0 // indirect
	github.com/AzureAD/microsoft-authentication-library-for-go v1.10.1 // indirect
	github.com/aws/aws-sdk-go-v2/config v1.33.15 // indirect
	github.com/aws/aws-sdk-go-v2/feature/ec2/imds v1.20.7 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.10 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.10 // indirect
	github.com/aws/aws-sdk-go-v2/internal/v4a v1.5.10 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding v1.13.24 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/presigned-url v1.14.10 // indirect
	github.com/aws/aws-sdk-go-v2/service/signin v1.12.3 // indirect
	github.com/aws/aws-sdk-go-v2/service/sso v1.39.3 // indirect
	github.com/aws/aws-sdk-go-v2/service/ssooidc v1.44.3 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/eapache/go-resiliency v1.7.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-uuid v1.0.3 // indirect
	github.com/jcmturner/aescts/v2 v2.0.0 // indirect
	github.com/jcmturner/dnsutils/v2 v2.0.0 // indirect
	github.com/jcmturner/gofork v1.7.6 // indirect
	github.com/jcmturner/gokrb5/v8 v8.4.4 // indirect
	github.com/jcmturner/rpc/v2 v2.0.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/pkg/browser v0.0.0-20240102092130-5ac0b6a4141c // indirect
	github.com/rcrowley/go-metrics v0.0.0-20250401214520-65e299d6c5c9 // indirect
	github.com/streamidentity/kafka-workload-identity/gcp v0.0.0-00010101000000-000000000000
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/net v0.59.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)

replace github.com/streamidentity/kafka-workload-identity/gcp => ../gcp
