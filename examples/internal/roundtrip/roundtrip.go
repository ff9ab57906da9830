// Package roundtrip holds the last step the example programs share once
// they have a Kafka client authenticated by a token source: produce one
// record and read that record back (no consumer group, so no group ACL),
// and the TLS option for the cluster's listener.
package roundtrip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TLS returns the franz-go option for the listener: TLS 1.2 or later with
// the system roots, or with the CA certificates of the PEM file caFile
// when it is not empty; plain TCP when plaintext (the offline brokers).
func TLS(plaintext bool, caFile string) (kgo.Opt, error) {
	if plaintext {
		return kgo.DialTLSConfig(nil), nil // nil: no TLS
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("-ca-file: %w", err)
		}
		if cfg.RootCAs = x509.NewCertPool(); !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca-file %s holds no PEM certificate; download the CA certificate from the cluster's console", caFile)
		}
	}
	return kgo.DialTLSConfig(cfg), nil
}

// Record produces value to topic with cl and reads that record back. It
// returns the record as consumed.
func Record(ctx context.Context, cl *kgo.Client, topic string, value []byte) (*kgo.Record, error) {
	rec := &kgo.Record{Topic: topic, Value: value}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return nil, fmt.Errorf("producing to %s: %w", topic, err)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)}})
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return nil, fmt.Errorf("consuming from %s: %w", topic, err)
	}
	recs := fs.Records()
	if len(recs) == 0 {
		return nil, fmt.Errorf("consuming from %s: no record", topic)
	}
	return recs[0], nil
}
