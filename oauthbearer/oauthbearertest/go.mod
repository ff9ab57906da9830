module github.com/streamidentity/kafka-workload-identity/oauthbearer/oauthbearertest

go 1.26.0

replace github.com/streamidentity/kafka-workload-identity => ../..

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/streamidentity/kafka-workload-identity v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	github.com/twmb/franz-go v1.22.2
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	github.com/twmb/franz-go/pkg/kmsg v1.15.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.57.0 // indirect
)
