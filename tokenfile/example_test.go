package tokenfile_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// A token source over a file another process keeps fresh, such as a
// Kubernetes projected service-account token (in production Path is the
// projected volume's path, /var/run/secrets/tokens/kafka-token for
// example). Here the example writes the file itself.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "tokenfile-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "kafka-token")
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	claims := fmt.Sprintf(`{"sub":"system:serviceaccount:orders:orders-svc","aud":"kafka","exp":%d}`, time.Now().Add(time.Hour).Unix())
	if err := os.WriteFile(path, []byte(seg(`{"alg":"RS256"}`)+"."+seg(claims)+"."+seg("signature")), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	src, err := tokenfile.New(&tokenfile.Options{Path: path})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	tok, err := src.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Principal)
	// Output: system:serviceaccount:orders:orders-svc
}
