// Package roundtrip holds the last step the example programs share once
// they have built a franz-go client with this library's SASL mechanism:
// produce one record and read that record back (no consumer group, so no
// group ACL); and the franz-go TLS options for the cluster's listener.
package roundtrip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
)

// TLS returns the franz-go option for the listener: TLS 1.2 or later with
// the system roots, or plain TCP when plaintext (the offline brokers).
func TLS(plaintext bool) kgo.Opt {
	if plaintext {
		return kgo.DialTLSConfig(nil) // nil: no TLS
	}
	return kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12})
}

// CAFile returns the franz-go option for a listener whose certificates
// are signed by the CA certificates in the PEM file path, read as every
// file a user names is (regular, at most 1 MiB).
func CAFile(path string) (kgo.Opt, error) {
	pem, err := boundedfile.Read(context.Background(), path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("-ca-file: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: x509.NewCertPool()}
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca-file %s holds no PEM certificate; download the CA certificate from the cluster's console", path)
	}
	return kgo.DialTLSConfig(cfg), nil
}

// Franz pings the cluster cl is connected to, so that a refused token
// fails first and as itself, produces value to topic, reads that record
// back and says so on out. The example built cl, with this library's SASL
// mechanism; Franz does not close it.
func Franz(ctx context.Context, out io.Writer, cl *kgo.Client, topic string, value []byte) error {
	rec, err := Record(ctx, cl, topic, value)
	if err == nil {
		fmt.Fprintf(out, "produced and consumed %q at partition %d offset %d\n", rec.Value, rec.Partition, rec.Offset)
	}
	return err
}

// Record is [Franz] without the sentence: it returns the record as
// consumed.
func Record(ctx context.Context, cl *kgo.Client, topic string, value []byte) (*kgo.Record, error) {
	if err := cl.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connecting to %v: %w", cl.OptValue(kgo.SeedBrokers), err)
	}
	rec := &kgo.Record{Topic: topic, Value: value}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return nil, fmt.Errorf("producing to %s: %w", topic, err)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return nil, fmt.Errorf("consuming from %s: %w", topic, err)
	}
	if recs := fs.Records(); len(recs) > 0 {
		return recs[0], nil
	}
	return nil, fmt.Errorf("consuming from %s: no record", topic)
}
