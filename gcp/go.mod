module github.com/streamidentity/kafka-workload-identity/gcp

go 1.26.0

require (
	cloud.google.com/go/compute/metadata v0.10.0
	github.com/streamidentity/kafka-workload-identity v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	golang.org/x/oauth2 v0.38.0
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.46.0 // indirect
)

replace github.com/streamidentity/kafka-workload-identity => ..
