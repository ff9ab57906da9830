module github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl

go 1.26.0

replace github.com/streamidentity/kafka-workload-identity => ../..

require (
	github.com/streamidentity/kafka-workload-identity v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	github.com/twmb/franz-go v1.22.2
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
