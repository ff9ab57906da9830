package schemaregistry

import "crypto/tls"

func reflectTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
