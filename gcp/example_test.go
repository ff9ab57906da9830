package gcp_test

import (
	"context"
	"log"

	"github.com/streamidentity/kafka-workload-identity/gcp"
)

// A source for Google Cloud Managed Service for Apache Kafka from
// Application Default Credentials: the metadata server on GCE, GKE and
// Cloud Run, else GOOGLE_APPLICATION_CREDENTIALS. Give it to a Kafka client
// adapter (franzsasl.Mechanism(src, nil), ...) with TLS on. (Compiled, not
// run: it needs Google Cloud.)
func ExampleNewManagedKafka() {
	ctx := context.Background()
	src, err := gcp.NewManagedKafka(ctx, nil)
	if err != nil {
		log.Fatal(err) // says whether ADC found nothing or the metadata server is unreachable
	}
	defer src.Close()
	tok, err := src.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("token for %s until %s", tok.Principal, tok.Expiry)
}
