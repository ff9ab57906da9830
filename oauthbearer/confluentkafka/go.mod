module github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka

go 1.26.0

replace github.com/streamidentity/kafka-workload-identity => ../..

require (
	github.com/confluentinc/confluent-kafka-go/v2 v2.11.1
	github.com/streamidentity/kafka-workload-identity v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
