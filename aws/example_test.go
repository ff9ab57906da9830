package aws_test

import (
	"context"
	"log"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
)

// The common case: the workload's role from the default AWS configuration
// (AWS_REGION and the usual credential chain), no SDK import needed.
func ExampleNewWebIdentity() {
	ctx := context.Background()
	src, err := awsid.NewWebIdentity(ctx, &awsid.WebIdentityOptions{
		Audience: []string{"kafka.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	// Hand src to franzsasl.Mechanism or saramasasl.NewTokenProvider.
}

// With an explicit SDK configuration. Both packages are named aws, so
// this one is imported as awsid. To run it offline, set BaseEndpoint to the
// URL of an idptest.NewSTS emulator and HTTPClient to its Client (as
// e2e/integration/aws does).
func ExampleNewWebIdentity_config() {
	src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{
		Audience:         []string{"kafka.example.com"},
		SigningAlgorithm: "ES384",
		Config: &sdkaws.Config{
			Region:      "eu-west-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	// Hand src to franzsasl.Mechanism or saramasasl.NewTokenProvider.
}

// Amazon MSK with IAM access control.
func ExampleNewMSK() {
	src, err := awsid.NewMSK(context.Background(), &awsid.MSKOptions{Region: "us-east-1"})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	// Hand src to franzsasl.Mechanism or saramasasl.NewTokenProvider.
}
